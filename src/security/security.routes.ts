/**
 * Routes of the security plane, mounted at /v1/program (SPEC §6.3–6.5, §6.9–6.10): secrets,
 * webhook ingest (signature-authenticated; listed in public-paths.ts) and the operators'
 * delivery listing — each week alias runs the same handlers and is marked deprecated (the
 * idempotent checkpoints live with the builds they control: builds/checkpoints.routes.ts). Handlers read validated input, call one service function, return JSON.
 */
import { Hono } from "hono";
import { createFactory } from "hono/factory";
import type { AppEnv } from "../kernel/env";
import { deprecatedAlias } from "../lib/deprecation";
import { validate } from "../kernel/validation";
import { requireCapability } from "./route-capability";
import { ListSecretsQuery, RotateSecretsQuery, SecretCreateRequest, SecretIdParam } from "./secrets.schemas";
import * as secrets from "./secrets.service";
import { DeliveryIdParam, ListDeliveriesQuery } from "./webhooks.schemas";
import * as webhooks from "./webhooks.service";

const factory = createFactory<AppEnv>();
const secretsRead = requireCapability("program.secrets.read");
const secretsWrite = requireCapability("program.secrets.write");
const webhookOperator = requireCapability("program.webhook.ingest");

type Vars = { env: Env; var: AppEnv["Variables"] };
const deps = (c: Vars) => ({ env: c.env, db: c.var.db, config: c.var.config, principal: c.var.principal, requestId: c.var.requestId });

const createSecret = factory.createHandlers(secretsWrite, validate("json", SecretCreateRequest), async (c) => {
  const ref = await secrets.createSecret(deps(c), c.req.valid("json"));
  c.header("location", `/v1/program/secrets/${ref.secret_id}`);
  return c.json(ref, 201);
});
const listSecrets = factory.createHandlers(secretsRead, validate("query", ListSecretsQuery), async (c) =>
  c.json(await secrets.listSecrets(deps(c), c.req.valid("query"))),
);
const getSecret = factory.createHandlers(secretsRead, validate("param", SecretIdParam), async (c) =>
  c.json(await secrets.getSecretMetadata(deps(c), c.req.valid("param").secret_id)),
);
const ingest = factory.createHandlers(async (c) =>
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
  .post("/secrets/rotate", secretsWrite, validate("query", RotateSecretsQuery), async (c) =>
    c.json(await secrets.rotateAllSecrets(deps(c), c.req.valid("query").limit)),
  )
  .get("/secrets/:secret_id", ...getSecret)
  .get("/week10/secrets/:secret_id", ...getSecret)
  .delete("/secrets/:secret_id", secretsWrite, validate("param", SecretIdParam), async (c) => {
    await secrets.deleteSecret(deps(c), c.req.valid("param").secret_id);
    return c.body(null, 204);
  })
  .post("/secrets/:secret_id/rotate", secretsWrite, validate("param", SecretIdParam), async (c) =>
    c.json(await secrets.rotateSecret(deps(c), c.req.valid("param").secret_id)),
  )
  // Webhooks (SPEC §6.4): ingest is signature-authenticated; the listing is for operators.
  .post("/webhook/ingest", ...ingest)
  .post("/week11/webhook/ingest", ...ingest)
  .get("/webhook/deliveries", webhookOperator, validate("query", ListDeliveriesQuery), async (c) =>
    c.json(await webhooks.listDeliveries(deps(c), c.req.valid("query"))),
  )
  .get("/webhook/deliveries/:delivery_id", webhookOperator, validate("param", DeliveryIdParam), async (c) =>
    c.json(await webhooks.getDelivery(deps(c), c.req.valid("param").delivery_id)),
  );
