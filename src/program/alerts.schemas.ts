/**
 * Request and response schemas of the control plane's alerting (issue 23 item 5): alert
 * destinations (the signing secret is write-only, shown masked) and GET /alerts.
 */
import { z } from "zod";
import { int, registerResponses, ts } from "../kernel/api-schemas";

export const AlertDestinationRequest = z.object({
  name: z.string().trim().min(1).max(200),
  url: z.url({ protocol: /^https?$/ }).max(2048),
  format: z.enum(["standard", "slack"]).default("standard"),
  secret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{22,}={0,2}$/, "a Standard Webhooks secret: whsec_ + base64 of at least 16 bytes")
    .max(200)
    .describe("Signs every delivery (webhook-signature v1); write-only, never returned."),
});
export type AlertDestinationRequest = z.infer<typeof AlertDestinationRequest>;

export const AlertDestinationParam = z.object({ destination_id: z.uuid() });

export const AlertDestination = z.object({
  destination_id: z.uuid(),
  name: z.string(),
  format: z.enum(["standard", "slack"]),
  url: z.string().describe("Slack URLs (themselves secrets) with a masked path."),
  secret: z.string().describe("Masked."),
  created_by: z.string(),
  created_at: ts,
});
export const AlertDestinationPage = z.object({ items: z.array(AlertDestination), next_cursor: z.null() });

const Alert = z.object({
  alert: z.string().describe("slo:<objective> | dead_letters | stuck_builds | campaign_drift:<campaign id>"),
  state: z.enum(["firing", "resolved"]),
  severity: z.enum(["page", "ticket"]),
  summary: z.string(),
  details: z.record(z.string(), z.unknown()),
  firing_seq: int.describe("How many times this alert has fired."),
  fired_at: ts,
  resolved_at: ts.nullable(),
  updated_at: ts,
  last_delivery: z
    .object({
      kind: z.enum(["firing", "resolved"]),
      status: z.enum(["pending", "delivered", "dead"]),
      attempts: int,
      last_error: z.string().nullable(),
      delivered_at: ts.nullable(),
    })
    .nullable(),
});
export const AlertList = z.object({ firing: z.array(Alert), recent: z.array(Alert) });

registerResponses({ AlertDestination, AlertDestinationPage, AlertList });
