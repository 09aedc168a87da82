/**
 * The control plane's own alerting (issue 23 item 5). On every cron invocation
 * (`runAlerts`, src/index.ts): evaluate each tenant's conditions (alerts.conditions.ts), step each
 * alert's state machine (alert-machine.ts) and enqueue one notification per destination for each
 * firing and each resolve (de-duplicated by the outbox's unique key), then deliver due
 * notifications — Standard Webhooks signed POSTs, Slack-compatible bodies — retrying with
 * backoff into dead letters. Also the API: GET /alerts and alert destination management.
 */
import { drizzle } from "drizzle-orm/d1";
import { signStandardWebhook } from "../builds/runner-protocol";
import { type Config, type Db, loadConfig } from "../kernel/env";
import { AppError } from "../kernel/errors";
import type { Principal } from "../kernel/principal";
import { fromBase64 } from "../lib/crypto";
import { isoTimestamp, newId } from "../lib/ids";
import { maskValue, openSecret, sealSecret } from "../security/secrets.crypto";
import {
  DELIVERY_POLICY,
  type NotificationInput,
  type Observation,
  nextAttemptDelay,
  slackBody,
  standardBody,
  step,
} from "./alert-machine";
import { observe } from "./alerts.conditions";
import * as repo from "./alerts.repo";
import type { AlertDestinationRequest } from "./alerts.schemas";

const iso = (ms: number) => isoTimestamp(ms);
type Deps = { db: Db; config: Config; principal: Principal };

function keyring(config: Config) {
  if (config.SECRETS_KEYRING === undefined) {
    throw new AppError("secrets_unavailable", "Alert destinations need SECRETS_KEYRING to store their signing secret.");
  }
  return config.SECRETS_KEYRING;
}

/** A destination as the API shows it: the secret masked, a Slack URL's path (itself a secret) masked. */
function destinationDto(d: repo.DestinationRow) {
  const url = new URL(d.url);
  return {
    destination_id: d.destinationId,
    name: d.name,
    format: d.format as "standard" | "slack",
    url: d.format === "slack" ? `${url.origin}/${maskValue(url.pathname.slice(1))}` : d.url,
    secret: d.secretHint,
    created_by: d.createdBy,
    created_at: d.createdAt,
  };
}

export async function createDestination(deps: Deps, body: AlertDestinationRequest) {
  if (deps.config.ENVIRONMENT !== "development" && !body.url.startsWith("https://")) {
    throw new AppError("validation_failed", "Alert destinations must be https:// URLs.", {
      errors: [{ path: "url", message: "must be https:// outside development" }],
    });
  }
  const id = newId();
  const sealed = await sealSecret(keyring(deps.config), body.secret, {
    tenantId: deps.principal.tenantId,
    secretId: id,
  });
  const row: repo.DestinationRow = {
    destinationId: id,
    tenantId: deps.principal.tenantId,
    name: body.name,
    format: body.format,
    url: body.url,
    secretCiphertext: sealed.ciphertext,
    secretWrappedKey: sealed.wrapped_key,
    secretKeyVersion: sealed.key_version,
    secretHint: maskValue(body.secret),
    createdBy: deps.principal.sub,
    createdAt: iso(Date.now()),
  };
  await repo.insertDestination(deps.db, row);
  return destinationDto(row);
}

export async function listDestinations(deps: Pick<Deps, "db" | "principal">) {
  const rows = await repo.listDestinations(deps.db, deps.principal.tenantId);
  return { items: rows.map(destinationDto), next_cursor: null };
}

export async function deleteDestination(deps: Pick<Deps, "db" | "principal">, id: string) {
  if (!(await repo.deleteDestination(deps.db, deps.principal.tenantId, id))) {
    throw new AppError("alert_destination_not_found", "Alert destination not found.");
  }
}

/** GET /alerts: the tenant's alerts (firing first, then recent), each with its last delivery. */
export async function listAlerts(deps: Pick<Deps, "db" | "principal">) {
  const states = await repo.listStates(deps.db, deps.principal.tenantId, 100);
  const last = await repo.latestNotifications(
    deps.db,
    deps.principal.tenantId,
    states.map((s) => s.alertKey),
  );
  const items = states.map((s) => {
    const n = last.find((x) => x.alertKey === s.alertKey);
    return {
      alert: s.alertKey,
      state: s.state as "firing" | "resolved",
      severity: s.severity as "page" | "ticket",
      summary: s.summary,
      details: s.details,
      firing_seq: s.firingSeq,
      fired_at: s.firedAt,
      resolved_at: s.resolvedAt,
      updated_at: s.updatedAt,
      last_delivery: n
        ? {
            kind: n.kind as "firing" | "resolved",
            status: n.status as "pending" | "delivered" | "dead",
            attempts: n.attempts,
            last_error: n.lastError,
            delivered_at: n.deliveredAt,
          }
        : null,
    };
  });
  return { firing: items.filter((i) => i.state === "firing"), recent: items.filter((i) => i.state !== "firing") };
}

// ---------------------------------------------------------------------------------------------
// Evaluation and delivery (the cron handler)

async function record(db: Db, tenantId: string, o: Observation, nowMs: number): Promise<void> {
  const prev = await repo.getState(db, tenantId, o.key);
  const t = step(prev ? { state: prev.state as "firing" | "resolved", firing_seq: prev.firingSeq } : null, o.firing);
  if (t.kind === "none") return;
  const at = iso(nowMs);
  const firing = t.kind === "fire" || t.kind === "refresh";
  const wrote = await repo.writeState(db, prev, {
    tenantId,
    alertKey: o.key,
    state: firing ? "firing" : "resolved",
    severity: t.kind === "resolve" && prev ? prev.severity : o.severity,
    summary: t.kind === "resolve" && prev ? prev.summary : o.summary,
    details: t.kind === "resolve" && prev ? prev.details : o.details,
    firingSeq: t.firing_seq,
    firedAt: t.kind === "fire" || !prev ? at : prev.firedAt,
    resolvedAt: t.kind === "resolve" ? at : null,
    updatedAt: at,
  });
  if (t.kind === "refresh") return;
  // Only the transition this invocation wrote enqueues; the unique key de-duplicates the rest.
  if (!wrote) return;
  const kind = t.kind === "fire" ? "firing" : "resolved";
  for (const d of await repo.listDestinations(db, tenantId)) {
    const notificationId = `msg_${newId().replaceAll("-", "")}`;
    const payload: NotificationInput = {
      notification_id: notificationId,
      tenant_id: tenantId,
      alert_key: o.key,
      firing_seq: t.firing_seq,
      kind,
      severity: t.kind === "resolve" && prev ? (prev.severity as "page" | "ticket") : o.severity,
      summary: t.kind === "resolve" && prev ? prev.summary : o.summary,
      details: t.kind === "resolve" && prev ? prev.details : o.details,
      at,
    };
    await repo.enqueue(db, {
      notificationId,
      tenantId,
      destinationId: d.destinationId,
      alertKey: o.key,
      firingSeq: t.firing_seq,
      kind,
      payload: payload as unknown as Record<string, unknown>,
      status: "pending",
      attempts: 0,
      nextAttemptAt: at,
      lastError: null,
      createdAt: at,
      deliveredAt: null,
    });
  }
}

async function deliver(db: Db, config: Config, n: repo.NotificationRow, nowMs: number): Promise<void> {
  if (!(await repo.claimNotification(db, n, iso(nowMs + DELIVERY_POLICY.timeoutMs + 5_000)))) return;
  const dest = await repo.getDestination(db, n.tenantId, n.destinationId);
  let error: string | null = null;
  if (!dest) error = "destination_deleted";
  else {
    try {
      const secret = await openSecret(
        keyring(config),
        { ciphertext: dest.secretCiphertext, wrapped_key: dest.secretWrappedKey, key_version: dest.secretKeyVersion },
        { tenantId: dest.tenantId, secretId: dest.destinationId },
      );
      const key = fromBase64(secret.replace(/^whsec_/, ""));
      if (!key) throw new Error("secret is not whsec_<base64>");
      const input = n.payload as unknown as NotificationInput;
      const body = JSON.stringify(dest.format === "slack" ? slackBody(input) : standardBody(input));
      const headers = await signStandardWebhook(key, n.notificationId, body, Math.floor(nowMs / 1000));
      const res = await fetch(dest.url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "clarity-control-plane-alerts", ...headers },
        body,
        signal: AbortSignal.timeout(DELIVERY_POLICY.timeoutMs),
      });
      await res.body?.cancel();
      if (!res.ok) error = `http_${res.status}`;
    } catch (err) {
      error = err instanceof Error ? err.message.slice(0, 300) : String(err);
    }
  }
  const attempts = n.attempts + 1;
  if (error === null) {
    await repo.settleNotification(db, n.notificationId, {
      status: "delivered",
      attempts,
      nextAttemptAt: n.nextAttemptAt,
      lastError: null,
      deliveredAt: iso(Date.now()),
    });
    return;
  }
  const delay = dest ? nextAttemptDelay(attempts) : null;
  await repo.settleNotification(db, n.notificationId, {
    status: delay === null ? "dead" : "pending",
    attempts,
    nextAttemptAt: iso(nowMs + (delay ?? 0)),
    lastError: error,
    deliveredAt: null,
  });
}

/**
 * The cron handler's alerting at `nowMs`: evaluate every tenant with a destination or a firing
 * alert, then deliver the notifications that are due. One tenant's failure is logged and does not
 * stop the others.
 */
export async function runAlerts(env: Env, nowMs: number): Promise<{ tenants: number; delivered: number }> {
  const db = drizzle(env.DB);
  const config = loadConfig(env);
  const tenants = await repo.alertTenants(db);
  for (const tenantId of tenants) {
    try {
      for (const o of await observe(db, config, tenantId, nowMs)) await record(db, tenantId, o, nowMs);
    } catch (err) {
      console.log(
        JSON.stringify({ level: "error", msg: "alert_evaluation_failed", tenant_id: tenantId, error: String(err) }),
      );
    }
  }
  const due = await repo.dueNotifications(db, iso(nowMs), 50);
  await Promise.all(due.map((n) => deliver(db, config, n, nowMs)));
  return { tenants: tenants.length, delivered: due.length };
}
