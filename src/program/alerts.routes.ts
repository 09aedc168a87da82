/**
 * /v1/program alerting routes (issue 23 item 5): the tenant's alerts (firing and recent, with
 * their last delivery) and alert destination management. Reads need `program.runtime.read` (as
 * the SLO summary); destination writes `program.runtime.write`. Thin: one service call each.
 */
import { Hono } from "hono";
import type { AppEnv } from "../kernel/env";
import { created, describeRoute, ok } from "../kernel/route-meta";
import { validate } from "../kernel/validation";
import { requireCapability } from "../security/route-capability";
import {
  AlertDestination,
  AlertDestinationPage,
  AlertDestinationParam,
  AlertDestinationRequest,
  AlertList,
} from "./alerts.schemas";
import * as alerts from "./alerts.service";

const read = requireCapability("program.runtime.read");
const write = requireCapability("program.runtime.write");

export const alertRoutes = new Hono<AppEnv>()
  .get(
    "/alerts",
    describeRoute({
      operationId: "listAlerts",
      tag: "release",
      summary: "The control plane's own alerts: firing, then recently resolved, each with its last delivery",
      responses: ok(AlertList),
    }),
    read,
    async (c) => c.json(await alerts.listAlerts(c.var)),
  )
  .post(
    "/alert-destinations",
    describeRoute({
      operationId: "createAlertDestination",
      tag: "release",
      summary: "Add a destination for alert notifications (Standard Webhooks or Slack-compatible)",
      responses: created(AlertDestination),
      errors: ["secrets_unavailable"],
    }),
    write,
    validate("json", AlertDestinationRequest),
    async (c) => {
      const d = await alerts.createDestination(c.var, c.req.valid("json"));
      c.header("location", `/v1/program/alert-destinations/${d.destination_id}`);
      return c.json(d, 201);
    },
  )
  .get(
    "/alert-destinations",
    describeRoute({
      operationId: "listAlertDestinations",
      tag: "release",
      summary: "Alert destinations (secrets masked)",
      responses: ok(AlertDestinationPage),
    }),
    read,
    async (c) => c.json(await alerts.listDestinations(c.var)),
  )
  .delete(
    "/alert-destinations/:destination_id",
    describeRoute({
      operationId: "deleteAlertDestination",
      tag: "release",
      summary: "Remove an alert destination (its pending notifications are dead-lettered)",
      responses: { 204: { description: "Deleted" } },
      errors: ["alert_destination_not_found"],
    }),
    write,
    validate("param", AlertDestinationParam),
    async (c) => {
      await alerts.deleteDestination(c.var, c.req.valid("param").destination_id);
      return c.body(null, 204);
    },
  );
