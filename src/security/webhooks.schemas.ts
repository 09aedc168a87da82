/** Query/param schemas of the webhook delivery routes. */
import { z } from "zod";
import { int, opaqueCursor, registerResponses, ts } from "../kernel/api-schemas";

export const ListDeliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(1024).optional(),
  scheme: z.enum(["platform", "standard", "github"]).optional(),
});
export type ListDeliveriesQuery = z.infer<typeof ListDeliveriesQuery>;

export const DeliveryIdParam = z.object({ delivery_id: z.uuid() });

// ---- responses (SPEC §6.4) -----------------------------------------------------------------------

const acceptedBase = {
  status: z.literal("accepted"),
  scheme: z.enum(["platform", "standard"]),
  delivery_id: z.uuid(),
  timestamp: int,
};
export const WebhookAccepted = z.union([
  z.object({ ...acceptedBase, nonce: z.string().describe("X-Platform-Nonce of the reference scheme.") }),
  z.object({ ...acceptedBase, webhook_id: z.string().describe("webhook-id of Standard Webhooks.") }),
]);

const deliveryShape = {
  delivery_id: z.uuid(),
  scheme: z.enum(["platform", "standard", "github"]),
  external_id: z.string(),
  tenant_id: z.string().nullable(),
  signed_at: int,
  received_at: ts,
  content_type: z.string().nullable(),
  body_digest: z.string(),
  body_bytes: int,
  event: z.string().nullable().describe("X-GitHub-Event of a GitHub delivery; null for the other schemes."),
  outcome: z
    .enum(["build_started", "ignored", "ping"])
    .nullable()
    .describe("What a GitHub delivery caused; null = stored only (the other schemes)."),
  outcome_reason: z
    .string()
    .nullable()
    .describe("Why a GitHub delivery was ignored (e.g. `repository_not_bound`, `branch_not_configured`)."),
  build_id: z.uuid().nullable().describe("The build a GitHub delivery started."),
};
export const WebhookDeliverySummary = z.object(deliveryShape);
export const WebhookDeliveryPage = z.object({ items: z.array(WebhookDeliverySummary), next_cursor: opaqueCursor });
export const WebhookDelivery = z.object({
  ...deliveryShape,
  body: z.string(),
  body_encoding: z.enum(["utf8", "base64"]),
});

registerResponses({ WebhookAccepted, WebhookDeliverySummary, WebhookDeliveryPage, WebhookDelivery });
