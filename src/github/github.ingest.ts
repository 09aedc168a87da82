/**
 * GitHub webhook ingest (issue 21): `POST /v1/program/webhook/github/{tenant_id}`. Checks in order:
 * body cap (413) → headers X-GitHub-Event / X-GitHub-Delivery / X-Hub-Signature-256 (400) →
 * signature (401; HMAC-SHA256 over the raw body with any of the tenant's `github_webhook_secret*`
 * secrets, verified with @octokit/webhooks-methods) → replay of X-GitHub-Delivery (409, the same
 * ReplayGuard and D1 unique key as every scheme) → decide (github.triggers.ts) and act → store the
 * delivery with its outcome → 200. Nothing is stored before the signature verified.
 * A build started by a delivery has an id derived from (tenant, delivery id), so a delivery
 * retried after a failure maps to the same build (a second create of an id is a no-op).
 */
import { verifyWithFallback } from "@octokit/webhooks-methods";
import type { GitTrigger } from "../builds/build-trigger";
import { createBuild } from "../builds/builds.service";
import { abortBuild } from "../builds/control.service";
import { AppError } from "../kernel/errors";
import { logLine } from "../kernel/log";
import type { Principal } from "../kernel/principal";
import { sha256Hex } from "../lib/crypto";
import { resolveSecretFamily } from "../security/secrets.service";
import { type DeliveryOutcome, type IngestDeps, acceptDelivery } from "../security/webhooks.service";
import { readBodyCapped } from "../security/webhooks.verify";
import * as repo from "./github.repo";
import { settingsOf } from "./github.bindings";
import { type Decision, decide, repositoryOf } from "./github.triggers";

/** Tenant secrets named `github_webhook_secret` or `github_webhook_secret_*` verify deliveries (rotation). */
export const WEBHOOK_SECRET_NAME = "github_webhook_secret";

const EVENT_RE = /^[a-z_]{1,64}$/;
const DELIVERY_RE = /^[\x21-\x7e]{1,256}$/;
const SIGNATURE_RE = /^sha256=[0-9a-f]{64}$/;

/** The principal builds started by GitHub act as: the tenant's own integration (tenant admins see its builds). */
export function githubPrincipal(tenantId: string): Principal {
  return { sub: "github", tenantId, roles: ["system"], capabilities: ["*"] };
}

/** A UUID (version 8 layout) derived from the tenant and the delivery id: one build per delivery. */
export async function deliveryBuildId(tenantId: string, deliveryId: string): Promise<string> {
  const h = (await sha256Hex(`github-delivery\u0000${tenantId}\u0000${deliveryId}`)).slice(0, 32).split("");
  h[12] = "8";
  h[16] = ((Number.parseInt(h[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  const x = h.join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function headers(req: Request) {
  const get = (n: string) => req.headers.get(n)?.trim() ?? "";
  const event = get("x-github-event");
  const delivery = get("x-github-delivery");
  const signature = get("x-hub-signature-256");
  if (event === "" || delivery === "" || signature === "")
    throw new AppError("webhook_headers_missing", "Missing X-GitHub-Event, X-GitHub-Delivery or X-Hub-Signature-256.");
  if (!EVENT_RE.test(event)) throw new AppError("webhook_headers_missing", "Invalid X-GitHub-Event header.");
  if (!DELIVERY_RE.test(delivery)) throw new AppError("webhook_headers_missing", "Invalid X-GitHub-Delivery header.");
  return { event, delivery, signature: signature.toLowerCase() };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** Verifies, de-duplicates, acts on and stores one GitHub delivery for `tenantId`. */
export async function ingestGithub(deps: IngestDeps, tenantId: string, req: Request) {
  const cap = deps.config.WEBHOOK_MAX_BODY_BYTES;
  const declared = Number(req.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > cap)
    throw new AppError("payload_too_large", `Request body exceeds ${cap} bytes.`);
  const h = headers(req);
  const body = await readBodyCapped(req, cap);
  const text = new TextDecoder().decode(body);
  // One answer for every failure (unknown tenant, no secret, wrong or malformed signature).
  const invalid = () => new AppError("webhook_signature_invalid", "signature_invalid");
  if (!SIGNATURE_RE.test(h.signature) || text === "") throw invalid();
  const secrets = await resolveSecretFamily(deps, tenantId, WEBHOOK_SECRET_NAME);
  const [first, ...rest] = secrets;
  if (first === undefined || !(await verifyWithFallback(first, text, h.signature, rest))) throw invalid();

  const payload = parseJson(text);
  const outcome = await acceptDelivery(
    deps,
    {
      scheme: "github",
      // Tenant-scoped: one tenant's signed delivery can never claim another tenant's delivery id.
      externalId: `${tenantId}:${h.delivery}`,
      tenantId,
      signedAt: Math.floor(Date.now() / 1000),
      contentType: req.headers.get("content-type"),
      body,
      event: h.event,
    },
    () => act(deps, tenantId, h.event, h.delivery, payload),
  );
  return {
    status: "accepted" as const,
    scheme: "github" as const,
    delivery_id: outcome.deliveryId,
    github_delivery: h.delivery,
    event: h.event,
    outcome: outcome.outcome ?? ("ignored" as const),
    outcome_reason: outcome.reason,
    build_id: outcome.buildId,
  };
}

async function act(
  deps: IngestDeps,
  tenantId: string,
  event: string,
  deliveryId: string,
  payload: unknown,
): Promise<DeliveryOutcome> {
  const name = repositoryOf(payload);
  const binding = name ? await repo.getBindingByName(deps.db, tenantId, name) : undefined;
  const decision = decide(event, payload, binding ? settingsOf(binding) : null, deliveryId);
  if (decision.kind === "ping") return { outcome: "ping", reason: null, buildId: null };
  if (decision.kind === "ignore") return { outcome: "ignored", reason: decision.reason, buildId: null };
  const settings = binding ? settingsOf(binding) : null;
  return startBuild(deps, tenantId, deliveryId, decision, settings?.profile ?? null, settings?.policy_profile ?? null);
}

function objectiveOf(t: GitTrigger): string {
  const at = t.head_sha.slice(0, 12);
  return t.kind === "push"
    ? `Scan ${t.repository} at ${at} (push to ${t.branch}).`
    : `Scan ${t.repository} pull request #${t.number} at ${at} (${t.head_ref} into ${t.base_ref}).`;
}

async function startBuild(
  deps: IngestDeps,
  tenantId: string,
  deliveryId: string,
  d: Extract<Decision, { kind: "build" }>,
  profile: string | null,
  policyProfile: string | null,
): Promise<DeliveryOutcome> {
  const buildDeps = { env: deps.env, db: deps.db, config: deps.config, principal: githubPrincipal(tenantId) };
  const buildId = await deliveryBuildId(tenantId, deliveryId);
  const metadata: Record<string, unknown> = {
    commit_sha: d.trigger.head_sha,
    baseline_repo_url: d.baseline_repo_url,
    ...(profile ? { autonomous_planner_profile: profile } : {}),
    ...(policyProfile ? { policy_profile_id: policyProfile } : {}),
  };
  let created: { created_at: string };
  try {
    created = await createBuild(
      buildDeps,
      { repo_url: d.repo_url, objective: objectiveOf(d.trigger), dag: null, metadata },
      { buildId, trigger: d.trigger },
    );
  } catch (err) {
    // A refusal (the binding's profile is not valid, …) is the delivery's outcome; outages propagate.
    if (err instanceof AppError && err.status < 500)
      return { outcome: "ignored", reason: `build_refused:${err.code}`, buildId: null };
    throw err;
  }
  if (d.supersede)
    await supersedeOlder(
      buildDeps,
      { tenantId, repoUrl: d.repo_url, buildId, createdAt: created.created_at },
      d.trigger,
    );
  return { outcome: "build_started", reason: null, buildId };
}

/** Aborts still-running push builds of the branch older than the new one; failures are logged only. */
async function supersedeOlder(
  deps: Parameters<typeof abortBuild>[0],
  q: Parameters<typeof repo.activePushBuilds>[1],
  trigger: GitTrigger,
): Promise<void> {
  const older = await repo.activePushBuilds(deps.db, q);
  for (const id of older) {
    try {
      await abortBuild(deps, id, `superseded by a newer push (${trigger.head_sha.slice(0, 12)}, build ${q.buildId})`);
    } catch (err) {
      logLine("warn", "github_supersede_failed", {
        build_id: id,
        error: err instanceof AppError ? err.code : err instanceof Error ? err.message : String(err),
      });
    }
  }
}
