/**
 * Routes of the security plane, mounted at /v1/program (SPEC §6.3–6.5, §6.9–6.10): secrets,
 * webhook ingest (signature-authenticated; `auth: "signature"` on its describeRoute) and the operators'
 * delivery listing — each week alias runs the same handlers and is marked deprecated (the
 * idempotent checkpoints live with the builds they control: builds/checkpoints.routes.ts).
 * Handlers read validated input, call one service function, return JSON.
 */
import { Hono } from "hono";
import { createFactory } from "hono/factory";
import type { AppEnv } from "../kernel/env";
import { deprecatedAlias } from "../lib/deprecation";
import { validate } from "../kernel/validation";
import { requireCapability } from "./route-capability";
import {
  ListSecretsQuery,
  RotateSecretsQuery,
  SecretCreateRequest,
  SecretIdParam,
  SecretMetadata,
  SecretRef,
  SecretRefPage,
  SecretRotation,
} from "./secrets.schemas";
import * as secrets from "./secrets.service";
import {
  DeliveryIdParam,
  ListDeliveriesQuery,
  WebhookAccepted,
  WebhookDelivery,
  WebhookDeliveryPage,
} from "./webhooks.schemas";
import * as webhooks from "./webhooks.service";
import { describeRoute, created, ok } from "../kernel/route-meta";
import { requestDeps } from "../kernel/request-deps";

const factory = createFactory<AppEnv>();
const secretsRead = requireCapability("program.secrets.read");
const secretsWrite = requireCapability("program.secrets.write");
const webhookOperator = requireCapability("program.webhook.ingest");

const createSecret = factory.createHandlers(
  describeRoute({
    operationId: "createSecret",
    tag: "secrets",
    summary: "Store a secret (the value is never returned again)",
    responses: created(SecretRef),
    errors: ["secret_name_conflict", "secrets_unavailable"],
  }),
  secretsWrite,
  validate("json", SecretCreateRequest),
  async (c) => {
    const ref = await secrets.createSecret(requestDeps(c), c.req.valid("json"));
    c.header("location", `/v1/program/secrets/${ref.secret_id}`);
    return c.json(ref, 201);
  },
);
const listSecrets = factory.createHandlers(
  describeRoute({
    operationId: "listSecrets",
    tag: "secrets",
    summary: "The tenant's secrets, masked, newest first",
    responses: ok(SecretRefPage),
  }),
  secretsRead,
  validate("query", ListSecretsQuery),
  async (c) => c.json(await secrets.listSecrets(requestDeps(c), c.req.valid("query"))),
);
const getSecret = factory.createHandlers(
  describeRoute({
    operationId: "getSecret",
    tag: "secrets",
    summary: "Secret metadata",
    responses: ok(SecretMetadata),
    errors: ["secret_not_found"],
  }),
  secretsRead,
  validate("param", SecretIdParam),
  async (c) => c.json(await secrets.getSecretMetadata(requestDeps(c), c.req.valid("param").secret_id)),
);
const ingest = factory.createHandlers(
  describeRoute({
    operationId: "ingestWebhook",
    tag: "webhooks",
    auth: "signature",
    summary: "Signed delivery (Standard Webhooks or X-Platform-*), stored durably",
    description:
      "Checked in the SPEC order: headers 400, integer timestamp 400, window 401, signature 401, replay 409; body " +
      "cap 413; coordination outage 503 (fail closed).",
    responses: ok(WebhookAccepted),
    errors: [
      "webhook_headers_missing",
      "timestamp_invalid",
      "webhook_timestamp_invalid",
      "webhook_signature_invalid",
      "webhook_rejected",
      "webhook_replay_detected",
      "payload_too_large",
      "coordination_unavailable",
    ],
  }),
  async (c) =>
    c.json(
      await webhooks.ingestWebhook(
        {
          env: c.env,
          db: c.var.db,
          config: c.var.config,
          background: (work) => {
            try {
              c.executionCtx.waitUntil(work);
            } catch {
              void work;
            }
          },
        },
        c.req.raw,
      ),
    ),
);

export const securityRoutes = new Hono<AppEnv>()
  .use("/week10/secrets", deprecatedAlias)
  .use("/week10/secrets/*", deprecatedAlias)
  .use("/week11/webhook/ingest", deprecatedAlias)
  // Secrets (SPEC §6.3)
  .post("/secrets", ...createSecret)
  .post("/week10/secrets", ...createSecret)
  .get("/secrets", ...listSecrets)
  .get("/week10/secrets", ...listSecrets)
  .post(
    "/secrets/rotate",
    describeRoute({
      operationId: "rotateSecrets",
      tag: "secrets",
      summary: "Re-wrap up to `limit` secrets under the newest key version",
      responses: ok(SecretRotation),
      errors: ["secrets_unavailable"],
    }),
    secretsWrite,
    validate("query", RotateSecretsQuery),
    async (c) => c.json(await secrets.rotateAllSecrets(requestDeps(c), c.req.valid("query").limit)),
  )
  .get("/secrets/:secret_id", ...getSecret)
  .get("/week10/secrets/:secret_id", ...getSecret)
  .delete(
    "/secrets/:secret_id",
    describeRoute({
      operationId: "deleteSecret",
      tag: "secrets",
      summary: "Delete a secret",
      responses: { 204: { description: "Deleted" } },
      errors: ["secret_not_found"],
    }),
    secretsWrite,
    validate("param", SecretIdParam),
    async (c) => {
      await secrets.deleteSecret(requestDeps(c), c.req.valid("param").secret_id);
      return c.body(null, 204);
    },
  )
  .post(
    "/secrets/:secret_id/rotate",
    describeRoute({
      operationId: "rotateSecret",
      tag: "secrets",
      summary: "Re-wrap one secret under the newest key version",
      responses: ok(SecretMetadata),
      errors: ["secret_not_found", "secrets_unavailable"],
    }),
    secretsWrite,
    validate("param", SecretIdParam),
    async (c) => c.json(await secrets.rotateSecret(requestDeps(c), c.req.valid("param").secret_id)),
  )
  // Webhooks (SPEC §6.4): ingest is signature-authenticated; the listing is for operators.
  .post("/webhook/ingest", ...ingest)
  .post("/week11/webhook/ingest", ...ingest)
  .get(
    "/webhook/deliveries",
    describeRoute({
      operationId: "listWebhookDeliveries",
      tag: "webhooks",
      summary: "Accepted deliveries, newest first",
      description:
        "The caller's tenant's deliveries; tenant-less ones (deployment-wide secrets without WEBHOOK_TENANT_ID) " +
        "only for deployment administrators (admins of DEPLOYMENT_ADMIN_TENANT).",
      responses: ok(WebhookDeliveryPage),
    }),
    webhookOperator,
    validate("query", ListDeliveriesQuery),
    async (c) => c.json(await webhooks.listDeliveries(requestDeps(c), c.req.valid("query"))),
  )
  .get(
    "/webhook/deliveries/:delivery_id",
    describeRoute({
      operationId: "getWebhookDelivery",
      tag: "webhooks",
      summary: "One delivery with its stored body",
      responses: ok(WebhookDelivery),
      errors: ["webhook_delivery_not_found"],
    }),
    webhookOperator,
    validate("param", DeliveryIdParam),
    async (c) => c.json(await webhooks.getDelivery(requestDeps(c), c.req.valid("param").delivery_id)),
  );
