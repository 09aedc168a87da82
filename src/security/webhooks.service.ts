/**
 * Webhook ingest (SPEC §6.4, DESIGN §7) and the operators' delivery listing. Ingest is
 * authenticated by signature, not a user JWT. Checks in order: body size (413) → headers (400)
 * → timestamp integer (400) → window (401) → signature (401) → replay (409: KV fast reject, then
 * the ReplayGuard's atomic claim, then the D1 unique (scheme, external_id)) → store → 200. The
 * row is stored through the DeliveryWriter, which puts concurrent deliveries in one D1 batch
 * (group commit); the answer waits for that batch.
 * The claim is held `pending` while the row is written and released if the write fails, so a
 * failed delivery can be retried by its sender (a crash frees it after CLAIM_LOCK_MS). Once the
 * row is stored, the D1 unique index is the lasting decider and KV the fast reject of keys seen
 * replayed (kept 2 × window + 60 s: a timestamp may be up to one window in the future); the claim is not completed,
 * which would cost a second guard round trip per delivery for no decision (issue 9 profile).
 * Guard unreachable → 503, nothing stored.
 * Deliveries belong to the tenant whose WEBHOOK_TENANT_SECRETS secret signed them, else to
 * WEBHOOK_TENANT_ID when set, else to no tenant — visible only to deployment administrators.
 */
import type { Config, Db } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { sha256Hex, toBase64 } from "../lib/crypto";
import { withoutParams } from "../lib/db-errors";
import { isoTimestamp, newId } from "../lib/ids";
import { decodeCursor, page } from "../kernel/cursor";
import { type Principal, isTenantAdmin } from "../kernel/principal";
import { guardKey, knownReplay, newClaimToken, rememberReplay, replayGuard } from "./replay-guard.client";
import { logLine } from "../kernel/log";
import type { StoreResult } from "./delivery-writer";
import * as repo from "./webhooks.repo";
import type { ListDeliveriesQuery } from "./webhooks.schemas";
import {
  type WebhookHeaders,
  assertInWindow,
  parseWebhookHeaders,
  readBodyCapped,
  verifyPlatformSignature,
  verifyStandardSignature,
} from "./webhooks.verify";

export interface IngestDeps {
  env: Env;
  db: Db;
  config: Config;
  /** Runs best-effort work after the response (ExecutionContext.waitUntil). */
  background(work: Promise<unknown>): void;
}

/** How long a delivery id stays claimed while its row is being written. */
const CLAIM_LOCK_MS = 30_000;

function replayDetected(): AppError {
  return new AppError("webhook_replay_detected", "nonce_replay_detected");
}

/**
 * Verifies the signature and answers the tenant the delivery belongs to: the tenant whose
 * WEBHOOK_TENANT_SECRETS secret verified it, else (deployment-wide secrets) WEBHOOK_TENANT_ID or
 * null — a tenant-less delivery, visible only to deployment administrators.
 */
async function verifySignature(config: Config, h: WebhookHeaders, body: Uint8Array): Promise<string | null> {
  let ok: boolean;
  if (h.scheme === "platform") {
    if (config.PLATFORM_WEBHOOK_SIGNING_SECRET === undefined)
      throw new AppError("webhook_rejected", "The X-Platform signature scheme is not configured.");
    ok = await verifyPlatformSignature(config.PLATFORM_WEBHOOK_SIGNING_SECRET, h, body);
  } else {
    if (config.STANDARD_WEBHOOK_SECRETS === undefined && config.WEBHOOK_TENANT_SECRETS === undefined) {
      throw new AppError("webhook_rejected", "Standard Webhooks are not configured.");
    }
    for (const { tenantId, secrets } of config.WEBHOOK_TENANT_SECRETS ?? []) {
      if (await verifyStandardSignature(secrets, h, body)) return tenantId;
    }
    ok =
      config.STANDARD_WEBHOOK_SECRETS !== undefined &&
      (await verifyStandardSignature(config.STANDARD_WEBHOOK_SECRETS, h, body));
  }
  if (!ok) throw new AppError("webhook_signature_invalid", "signature_invalid");
  return config.WEBHOOK_TENANT_ID ?? null;
}

/** Deployment administrators: admins (`*`) of DEPLOYMENT_ADMIN_TENANT. They alone see tenant-less deliveries. */
export function isDeploymentAdmin(config: Config, principal: Principal): boolean {
  return (
    config.DEPLOYMENT_ADMIN_TENANT !== undefined &&
    principal.tenantId === config.DEPLOYMENT_ADMIN_TENANT &&
    isTenantAdmin(principal)
  );
}

function encodeBody(body: Uint8Array): { text: string; encoding: "utf8" | "base64" } {
  try {
    return { text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body), encoding: "utf8" };
  } catch {
    return { text: toBase64(body), encoding: "base64" };
  }
}

/** Verifies, de-duplicates and durably stores one signed delivery. */
export async function ingestWebhook(deps: IngestDeps, req: Request) {
  const cfg = deps.config;
  const declared = Number(req.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > cfg.WEBHOOK_MAX_BODY_BYTES) {
    throw new AppError("payload_too_large", `Request body exceeds ${cfg.WEBHOOK_MAX_BODY_BYTES} bytes.`);
  }
  const h = parseWebhookHeaders(req.headers);
  const window = cfg.WEBHOOK_REPLAY_WINDOW_SECONDS;
  assertInWindow(h.timestamp, Math.floor(Date.now() / 1000), window);
  const body = await readBodyCapped(req, cfg.WEBHOOK_MAX_BODY_BYTES);
  const tenantId = await verifySignature(cfg, h, body);

  const outcome = await acceptDelivery(deps, {
    scheme: h.scheme,
    externalId: h.id,
    tenantId,
    signedAt: h.timestamp,
    contentType: req.headers.get("content-type"),
    body,
    event: null,
  });
  const base = {
    status: "accepted" as const,
    scheme: h.scheme,
    delivery_id: outcome.deliveryId,
    timestamp: h.timestamp,
  };
  return h.scheme === "platform" ? { ...base, nonce: h.id } : { ...base, webhook_id: h.id };
}

/** A verified delivery about to be claimed and stored. */
export interface VerifiedDelivery {
  scheme: repo.DeliveryRow["scheme"];
  externalId: string;
  tenantId: string | null;
  /** The signed timestamp, or the receive time for schemes that sign none (GitHub). */
  signedAt: number;
  contentType: string | null;
  body: Uint8Array;
  event: string | null;
}

/** What a delivery caused, stored on its row (GitHub deliveries; src/github). */
export interface DeliveryOutcome {
  outcome: "build_started" | "ignored" | "ping" | null;
  reason: string | null;
  buildId: string | null;
}

const STORED_ONLY: DeliveryOutcome = { outcome: null, reason: null, buildId: null };

/**
 * De-duplicates (KV fast reject, the ReplayGuard's claim, the D1 unique (scheme, external_id))
 * and stores one verified delivery; 409 `webhook_replay_detected` for a replay. `act` runs after
 * the claim and before the row is stored, so a replay never acts twice; its result is stored on
 * the row. When `act` or the write fails the claim is released and the error propagates (the
 * sender retries; `act` must be idempotent per delivery id).
 */
export async function acceptDelivery(
  deps: IngestDeps,
  d: VerifiedDelivery,
  act: () => Promise<DeliveryOutcome> = async () => STORED_ONLY,
): Promise<{ deliveryId: string } & DeliveryOutcome> {
  const cfg = deps.config;
  const key = await guardKey("webhook", d.scheme, d.externalId);
  if (await knownReplay(deps.env, key)) throw replayDetected();
  const guard = replayGuard(deps.env, cfg);
  const token = newClaimToken();
  const digest = await sha256Hex(d.body);
  const claim = await guard.claim(key, token, digest, CLAIM_LOCK_MS);
  const keepMs = (2 * cfg.WEBHOOK_REPLAY_WINDOW_SECONDS + 60) * 1000;
  // KV learns a key when a replay of it is detected, so a replay storm is turned away at the
  // edge; accepted deliveries cost no KV write (issue 9 profile).
  const replay = () => {
    deps.background(rememberReplay(deps.env, key, keepMs / 1000));
    return replayDetected();
  };
  if (claim.outcome !== "claimed") throw replay();
  const release = () => deps.background(guard.release(key, token).catch(() => undefined));

  let outcome: DeliveryOutcome;
  try {
    outcome = await act();
  } catch (err) {
    release();
    throw err;
  }
  const encoded = encodeBody(d.body);
  const row: repo.DeliveryRow = {
    deliveryId: newId(),
    scheme: d.scheme,
    externalId: d.externalId,
    tenantId: d.tenantId,
    signedAt: d.signedAt,
    receivedAt: isoTimestamp(Date.now()),
    contentType: d.contentType?.slice(0, 255) ?? null,
    body: encoded.text,
    bodyEncoding: encoded.encoding,
    bodyDigest: digest,
    bodyBytes: d.body.length,
    event: d.event,
    outcome: outcome.outcome,
    outcomeReason: outcome.reason,
    buildId: outcome.buildId,
  };
  let stored: boolean;
  try {
    stored = await storeDelivery(deps.env, row);
  } catch (err) {
    release();
    throw new AppError("internal", undefined, { cause: withoutParams(err, "storing a webhook delivery failed") });
  }
  // A row already stored under this id (after the claim lapsed) is a replay too.
  if (!stored) throw replay();
  return { deliveryId: row.deliveryId, ...outcome };
}

/** The DeliveryWriter instance (one per deployment: it exists to put concurrent rows in one batch). */
const WRITER_NAME = "webhook-deliveries";

/**
 * Stores the row through the DeliveryWriter (group commit, delivery-writer.do.ts); straight into
 * D1 when the writer cannot be reached (then a row the writer did store before its answer was
 * lost reads as already stored: a 409 for a delivery that is stored once, as it should be).
 * Throws when D1 refused the row.
 */
async function storeDelivery(env: Env, row: repo.DeliveryRow): Promise<boolean> {
  let result: StoreResult;
  try {
    const ns = env.DELIVERY_WRITER;
    result = await ns.get(ns.idFromName(WRITER_NAME)).store(row);
  } catch (err) {
    logLine("warn", "delivery_writer_unavailable", { error: err instanceof Error ? err.message : String(err) });
    return (await repo.insertDeliveries(env.DB, [row]))[0] === true;
  }
  if (!result.ok) throw new Error(result.error);
  return result.stored;
}

function deliveryItem(r: repo.DeliveryRow) {
  return {
    delivery_id: r.deliveryId,
    scheme: r.scheme,
    external_id: r.externalId,
    tenant_id: r.tenantId,
    signed_at: r.signedAt,
    received_at: r.receivedAt,
    content_type: r.contentType,
    body_digest: r.bodyDigest,
    body_bytes: r.bodyBytes,
    event: r.event,
    outcome: r.outcome as DeliveryOutcome["outcome"],
    outcome_reason: r.outcomeReason,
    build_id: r.buildId,
  };
}

/** Accepted deliveries visible to the caller's tenant, newest first. */
export async function listDeliveries(deps: { db: Db; config: Config; principal: Principal }, q: ListDeliveriesQuery) {
  let after: { receivedAt: string; deliveryId: string } | undefined;
  if (q.cursor !== undefined) {
    const [receivedAt, deliveryId] = decodeCursor(q.cursor, 2) as [string, string];
    after = { receivedAt, deliveryId };
  }
  const rows = await repo.listDeliveries(deps.db, {
    tenantId: deps.principal.tenantId,
    deploymentAdmin: isDeploymentAdmin(deps.config, deps.principal),
    scheme: q.scheme,
    limit: q.limit + 1,
    after,
  });
  return page(rows, q.limit, deliveryItem, (r) => [r.receivedAt, r.deliveryId]);
}

/** One delivery with its stored body. */
export async function getDelivery(deps: { db: Db; config: Config; principal: Principal }, deliveryId: string) {
  const row = await repo.getDelivery(
    deps.db,
    deps.principal.tenantId,
    isDeploymentAdmin(deps.config, deps.principal),
    deliveryId,
  );
  if (!row) throw new AppError("webhook_delivery_not_found", "Webhook delivery not found.");
  return { ...deliveryItem(row), body: row.body, body_encoding: row.bodyEncoding };
}
