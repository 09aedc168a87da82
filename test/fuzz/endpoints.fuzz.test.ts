/**
 * Property-based fuzzing of every route of the real app (issue 9). Routes are enumerated from
 * `createApp().routes`, so a new route is fuzzed without touching this file. Each request gets
 * hostile path params, query strings, headers (auth, content type, Idempotency-Key, webhook
 * signatures) and bodies (malformed, wrong-typed, unicode-heavy, oversized, and zod-derived
 * near-valid ones). Properties: never a 5xx; every error is problem+json with a known code whose
 * status matches; an error leaves D1 exactly as it was (no partial writes). Real D1/KV/DO.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { buildRunner } from "../../src/builds/build-runner.client";
import * as buildSchemas from "../../src/builds/builds.schemas";
import { RunnerMessage } from "../../src/builds/runner-protocol";
import { ERROR_CODES, type ErrorCode, codeToStatus } from "../../src/kernel/errors";
import worker from "../../src/index";
import { PolicyCreateRequest } from "../../src/planning/planning.schemas";
import * as programSchemas from "../../src/program/program.schemas";
import { IdempotentCheckpointRequest } from "../../src/builds/idempotent-checkpoints.service";
import { SecretCreateRequest } from "../../src/security/secrets.schemas";
import { tokenFor } from "../helpers/auth";
import { d1Fingerprint } from "./d1-fingerprint";
import { deeplyNested, nearValid, serialize, stressed, unicodeString, zodArbitrary } from "./zod-arbitrary";

/** Runs per route (more where a request schema gives near-valid bodies); the whole file stays under ~30 s on 2 cores. */
const RUNS = 10;
const RUNS_WITH_SCHEMA = 40;
/** Fixed so CI is reproducible; change it locally to explore (a failure prints its counterexample). */
const SEED = 20_260_409;

const KNOWN_CODES = new Set<string>(ERROR_CODES);
const TENANT = "fuzz-org";

// ---------------------------------------------------------------------------------------------
// The routes under test

interface Route {
  method: string;
  path: string;
}

function appRoutes(): Route[] {
  const seen = new Map<string, Route>();
  for (const r of createApp().routes) {
    if (r.method === "ALL") continue; // middleware (`use`), not an endpoint
    seen.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
  }
  return [...seen.values()];
}
const ROUTES = appRoutes();

/** Canonical route key (week aliases share their canonical schema). */
const canonical = (r: Route) => `${r.method} ${r.path.replace(/\/week\d+\//, "/")}`;

const SCHEMAS: Record<string, import("zod").ZodType> = {
  "POST /v1/builds": buildSchemas.BuildCreateRequest,
  "POST /v1/builds/preview-dag": buildSchemas.BuildCreateRequest,
  "POST /v1/builds/:id/abort": buildSchemas.ReasonBody,
  "POST /v1/builds/:id/resume": buildSchemas.ReasonBody,
  "POST /v1/builds/:id/replan/suggest/apply": buildSchemas.ReasonBody,
  "POST /v1/builds/:id/tasks": buildSchemas.StartTaskBody,
  "POST /v1/builds/:id/tasks/:task_run_id/complete": buildSchemas.CompleteTaskBody,
  "POST /v1/builds/:id/gates/:gate": buildSchemas.GateBody,
  "POST /v1/builds/:id/replan": buildSchemas.ReplanBody,
  "POST /v1/builds/:id/debt": buildSchemas.DebtBody,
  "POST /v1/builds/:id/policy-violations": buildSchemas.ViolationBody,
  "POST /v1/builds/:id/checkpoints": buildSchemas.CheckpointBody,
  "POST /v1/runner/callback": RunnerMessage,
  "POST /v1/planner/policies": PolicyCreateRequest,
  "POST /v1/program/secrets": SecretCreateRequest,
  "POST /v1/program/idempotent-checkpoints": IdempotentCheckpointRequest,
  "POST /v1/program/campaigns": programSchemas.CampaignCreateRequest,
  "POST /v1/program/campaigns/:campaign_id/runs": programSchemas.ValidationRunRequest,
  "POST /v1/program/campaigns/:campaign_id/execute": programSchemas.CampaignExecuteRequest,
  "POST /v1/program/policy-profiles": programSchemas.PolicyProfileCreateRequest,
  "POST /v1/program/policy-check": programSchemas.PolicyCheckRequest,
  "POST /v1/program/checklist": programSchemas.ChecklistRequest,
  "POST /v1/program/rollback-drills": programSchemas.RollbackDrillRequest,
  "POST /v1/program/go-live-decision": programSchemas.GoLiveRequest,
};
const SCHEMA_ARBS = new Map(Object.entries(SCHEMAS).map(([k, s]) => [k, zodArbitrary(s)]));
/** Unmapped (e.g. new) routes get any known request shape: realistic, usually the wrong one. */
const ANY_SHAPE = fc.oneof(...SCHEMA_ARBS.values());

// ---------------------------------------------------------------------------------------------
// Seeded entities (valid path params reach deeper code) and principals

const seeded: Record<string, string> = {};
const tokens: Record<string, string> = {};

async function call(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://cp.test${path}`, { method, headers: init.headers, body: init.body }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

async function seed(
  method: string,
  path: string,
  body: unknown,
  pick: (json: any) => string | undefined,
  name: string,
) {
  const res = await call(method, path, {
    headers: { authorization: `Bearer ${tokens.admin}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json: any = await res.json().catch(() => null);
  const value = res.ok ? pick(json) : undefined;
  if (value) seeded[name] = value;
  else console.warn(`fuzz seed ${name}: ${method} ${path} → ${res.status} ${JSON.stringify(json)?.slice(0, 200)}`);
}

async function waitBuildSettled(id: string) {
  for (let i = 0; i < 200; i++) {
    const res = await call("GET", `/v1/builds/${id}`, { headers: { authorization: `Bearer ${tokens.admin}` } });
    const b: any = await res.json();
    if (b.status === "completed") return b;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("seed build did not complete");
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Percent-encodes UTF-8 (lone surrogates become U+FFFD, as a browser would send them). */
const pct = (s: string) =>
  [...new TextEncoder().encode(s)]
    .map((b) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, "0")}`,
    )
    .join("");

/** Header values: printable ASCII (workerd re-encodes anything else as UTF-8, with a warning per request). */
const latin1 = (maxLength = 40) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

const RAW_PATH_JUNK = [
  "%ZZ",
  "%",
  "%E0%A4%A",
  "%00",
  "..",
  ".",
  "a".repeat(5000),
  "%2F",
  "null",
  "-1",
  "1e309",
  "0",
  "00000000-0000-0000-0000-000000000000",
  "%F0%9F%98%80",
  "%C0%AF",
];

function paramArb(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(seeded[name] ?? crypto.randomUUID()) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: unicodeString().map(pct) },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_PATH_JUNK) },
  );
}

/**
 * Path encodings (issue 17 item 9): a param (or a literal segment) spelled with valid, malformed
 * and tricky percent-encodings — truncated UTF-8 sequences, lone `%`, bad hex digits, overlong
 * forms, encoded surrogates, encoded slashes and dots, mixed case hex.
 */
const BAD_ESCAPES = [
  "%",
  "%Z",
  "%ZZ",
  "%G0",
  "%0",
  "%E0%A4%A",
  "%E0%A4",
  "%C3",
  "%C3%28",
  "%ED%A0%80",
  "%F8%88%80%80%80",
  "%FF",
  "%C0%AF",
  "%E0%80%AF",
  "%F4%90%80%80",
  "%%41",
  "%u0041",
];
const OK_ESCAPES = ["%2F", "%2f", "%2E%2E", "%20", "%00", "%E2%82%AC", "%F0%9F%98%80", "%41", "%7E", "%25"];
const pathPieceArb = fc
  .array(
    fc.oneof(
      fc.constantFrom(...BAD_ESCAPES),
      fc.constantFrom(...OK_ESCAPES),
      unicodeString(4).map(pct),
      fc.constantFrom("a", "1", "-", "."),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((parts) => parts.join(""));
/** Whether a raw path decodes (what the server must accept rather than answer 400 malformed_path). */
const decodes = (raw: string) => {
  try {
    decodeURIComponent(raw);
    return true;
  } catch {
    return false;
  }
};

const QUERY_KEYS = [
  "limit",
  "cursor",
  "status",
  "severity",
  "scheme",
  "node_id",
  "metric",
  "gate",
  "stream_token",
  "window",
  "repo",
  "version",
];
const queryArb = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 6 })),
      fc.oneof(
        fc.integer().map(String),
        fc.constantFrom(
          "-1",
          "0",
          "1",
          "1e309",
          "NaN",
          "Infinity",
          "0x10",
          " 5",
          "999999999999999999999",
          "",
          "true",
          "completed",
          "critical",
          "x".repeat(3000),
        ),
        unicodeString(),
      ),
      fc.boolean(),
    ),
    { maxLength: 4 },
  )
  .map((pairs) =>
    pairs.map(([k, v, raw]) => `${pct(k)}=${raw && v.length < 10 ? v.replace(/[&#]/g, "") : pct(v)}`).join("&"),
  );

const MALFORMED = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc
    .jsonValue({ maxDepth: 3 })
    .map((v) => JSON.stringify(v))
    .chain((s) => fc.nat({ max: Math.max(0, s.length - 1) }).map((n) => s.slice(0, n))),
  fc.constantFrom(
    "{",
    "[1,",
    '{"a":}',
    "{'a':1}",
    "NaN",
    "\uFEFF{}",
    '{"a":1}}',
    "\u0000",
    "null garbage",
    '{"repo_url":"x",}',
    deeplyNested(100_000),
    "{}".repeat(50_000),
  ),
);
/** > 1 MiB: above the webhook cap, near D1's row limit when stored. */
const OVERSIZED = fc.constantFrom(
  JSON.stringify({
    repo_url: "https://github.com/acme/app",
    objective: "o",
    name: "n",
    reason: "r",
    value: "v".repeat(1_200_000),
  }),
  JSON.stringify({ repo_url: `https://github.com/acme/${"a".repeat(1_500_000)}` }),
  JSON.stringify({
    metadata: Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, i])),
    repo_url: "https://github.com/acme/app",
  }),
);
const UNICODE_OBJECT = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      "repo_url",
      "objective",
      "name",
      "reason",
      "value",
      "node_id",
      "summary",
      "release_id",
      "run_id",
      "metadata",
      "dag",
      "status",
    ),
    unicodeString(8),
  ),
  fc.oneof(
    unicodeString(64),
    fc.array(unicodeString(16), { maxLength: 3 }),
    fc.dictionary(unicodeString(8), unicodeString(16), { maxKeys: 3 }),
  ),
  { maxKeys: 5 },
);

function bodyArb(route: Route): fc.Arbitrary<string | undefined> {
  const shape = SCHEMA_ARBS.get(canonical(route)) ?? ANY_SHAPE;
  return fc.oneof(
    { weight: 4, arbitrary: nearValid(shape).map(serialize) },
    { weight: 1, arbitrary: shape.map(serialize) },
    { weight: 3, arbitrary: stressed(shape).map(serialize) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: MALFORMED },
    { weight: 2, arbitrary: UNICODE_OBJECT.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: OVERSIZED },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

function authArb(): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(`Bearer ${tokens.admin}`) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        `Bearer ${tokens.operator}`,
        `Bearer ${tokens.viewer}`,
        `Bearer ${tokens.security}`,
        `Bearer ${tokens.stranger}`,
      ),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        undefined,
        "Bearer",
        "Bearer x.y.z",
        "Basic Zm9vOmJhcg==",
        `Bearer ${tokens.expired}`,
        `Bearer ${"a".repeat(9000)}`,
        `bearer  ${tokens.admin}`,
      ),
    },
    { weight: 1, arbitrary: latin1(60).map((s) => `Bearer ${s}`) },
  );
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

const OTHER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];
const WEBHOOK_SECRET = () => env.STANDARD_WEBHOOK_SECRETS!.split(/[\s,]+/)[0]!;
const RUNNER_SECRET = () => env.RUNNER_SHARED_SECRETS!.split(/[\s,]+/)[0]!;

function requestArb(route: Route): fc.Arbitrary<FuzzRequest> {
  const params = [...route.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!);
  const signed = /webhook\/ingest$|runner\/callback$/.test(route.path);
  return fc
    .record({
      method: fc.oneof(
        { weight: 9, arbitrary: fc.constant(route.method) },
        { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) },
      ),
      params: fc.tuple(...params.map(paramArb)),
      query: fc.oneof({ weight: 2, arbitrary: fc.constant("") }, { weight: 3, arbitrary: queryArb }),
      body: bodyArb(route),
      auth: authArb(),
      contentType: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom("application/json", "application/json; charset=utf-8") },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            undefined,
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json; charset=utf-16",
            "APPLICATION/JSON",
          ),
        },
      ),
      idempotencyKey: fc.option(fc.oneof(fc.uuid(), latin1(300), fc.constantFrom('"quoted"', '"unterminated', "")), {
        freq: 3,
      }),
      lastEventId: fc.option(fc.oneof(fc.integer().map(String), latin1(20)), { freq: 4 }),
      requestId: fc.option(latin1(200), { freq: 4 }),
      signature: fc.constantFrom("valid", "valid", "none", "junk", "stale"),
      sigId: fc.oneof(fc.uuid(), latin1(300)),
    })
    .map((r) => {
      let i = 0;
      const path = route.path.replace(/:([A-Za-z_]+)/g, () => r.params[i++] ?? "x");
      const method = r.method;
      const body = method === "GET" || method === "HEAD" ? undefined : r.body;
      const headers: Record<string, string> = {};
      if (r.auth !== undefined) headers.authorization = r.auth;
      if (r.contentType !== undefined && body !== undefined) headers["content-type"] = r.contentType;
      if (r.idempotencyKey !== null) headers["idempotency-key"] = r.idempotencyKey;
      if (r.lastEventId !== null) headers["last-event-id"] = r.lastEventId;
      if (r.requestId !== null) headers["x-request-id"] = r.requestId;
      if (signed && r.signature !== "none") {
        const ts = Math.floor(Date.now() / 1000) - (r.signature === "stale" ? 100_000 : 0);
        const sig =
          r.signature === "junk"
            ? "v1,AAAA"
            : new Webhook(path.includes("runner") ? RUNNER_SECRET() : WEBHOOK_SECRET()).sign(
                r.sigId,
                new Date(ts * 1000),
                body ?? "",
              );
        Object.assign(headers, { "webhook-id": r.sigId, "webhook-timestamp": String(ts), "webhook-signature": sig });
      }
      return { method, path: r.query ? `${path}?${r.query}` : path, headers, body };
    });
}

// ---------------------------------------------------------------------------------------------
// The properties

const describeReq = (r: FuzzRequest) =>
  `${r.method} ${r.path.slice(0, 300)} headers=${JSON.stringify(Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.slice(0, 80)])))} body=${JSON.stringify(r.body?.slice(0, 300))}${(r.body?.length ?? 0) > 300 ? `…(${r.body?.length} chars)` : ""}`;

let baseline = "";
/** Responses by status over the whole file (printed at the end: the spread the fuzz reached). */
const statuses: Record<number, number> = {};

/**
 * Finished campaign builds whose run the completion hook has not stored yet — as the campaign's
 * current run, and as the run of its execution (history) — the hook runs in the background
 * (waitUntil) after the build's last commit, several D1 round trips later.
 */
const UNSYNCED_CAMPAIGN_BUILDS = `SELECT count(*) AS n FROM campaign_builds cb
  JOIN builds b ON b.build_id = cb.build_id
  JOIN campaigns c ON c.campaign_id = cb.campaign_id AND c.current_execution_id = cb.execution_id
  LEFT JOIN campaign_runs r ON r.campaign_id = cb.campaign_id AND r.run_id = cb.run_id
  WHERE b.status IN ('completed', 'failed', 'aborted') AND (r.run_id IS NULL OR r.build_id IS NOT cb.build_id OR r.observed_at < b.updated_at)
  UNION ALL
  SELECT count(*) AS n FROM campaign_builds cb
  JOIN builds b ON b.build_id = cb.build_id
  JOIN campaign_executions e ON e.execution_id = cb.execution_id AND e.status = 'running'
  LEFT JOIN campaign_execution_runs er ON er.execution_id = cb.execution_id AND er.run_id = cb.run_id
  WHERE b.status IN ('completed', 'failed', 'aborted') AND (er.run_id IS NULL OR er.observed_at < b.updated_at)`;

/** Stops background work a successful request started (running builds) and waits for D1 to settle. */
async function quiesce(): Promise<string> {
  const running = await env.DB.prepare(
    "SELECT build_id FROM builds WHERE status IN ('pending','running','paused')",
  ).all<{ build_id: string }>();
  for (const { build_id } of running.results)
    await buildRunner(env, build_id).control({ type: "abort", reason: "fuzz quiesce" });
  // The completion hooks of the builds that just finished (campaign runs) land after their
  // commit: wait for them by their own condition first (bounded: a build the hook rightly
  // ignores never syncs), then for D1 to be unchanged over three reads 50 ms apart — an alarm
  // tick or another background write already in flight can land tens of ms later on a loaded
  // machine, and would then be blamed on the next (rejected) request.
  for (let i = 0; i < 60; i++) {
    const open = await env.DB.prepare(UNSYNCED_CAMPAIGN_BUILDS).all<{ n: number }>();
    if (open.results.every((r) => r.n === 0)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  let prev = await d1Fingerprint(env.DB);
  let stable = 0;
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const next = await d1Fingerprint(env.DB);
    stable = next === prev ? stable + 1 : 0;
    if (stable === 3) return next;
    prev = next;
  }
  throw new Error("D1 did not settle after a successful request");
}

/** The tables whose rows differ between two fingerprints (named in a partial-write failure). */
function changedTables(a: string, b: string): string {
  const rows = (x: string) => new Map(x.split("\n").map((l) => [l.slice(0, l.indexOf(":")), l]));
  const [ra, rb] = [rows(a), rows(b)];
  return [...new Set([...ra.keys(), ...rb.keys()])].filter((t) => ra.get(t) !== rb.get(t)).join(", ");
}

async function send(req: FuzzRequest): Promise<Response> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no response within 15 s: ${describeReq(req)}`)), 15_000);
  });
  try {
    return await Promise.race([call(req.method, req.path, { headers: req.headers, body: req.body }), timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

async function checkOne(req: FuzzRequest): Promise<void> {
  const res = await send(req);
  statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  const what = describeReq(req);
  const type = res.headers.get("content-type") ?? "";
  const text = type.startsWith("text/event-stream") ? (await res.body?.cancel(), "") : await res.text();
  expect(res.status, `5xx for ${what}: ${text.slice(0, 400)}`).toBeLessThan(500);
  if (res.status >= 400) {
    expect(type, `error without problem+json for ${what}`).toBe("application/problem+json");
    if (req.method !== "HEAD") {
      const problem = JSON.parse(text) as {
        code: string;
        status: number;
        request_id: unknown;
        type: unknown;
        title: unknown;
      };
      expect(KNOWN_CODES.has(problem.code), `unknown code ${problem.code} for ${what}`).toBe(true);
      expect(problem.status).toBe(res.status);
      expect(codeToStatus(problem.code as ErrorCode)).toBe(res.status);
      expect(typeof problem.request_id).toBe("string");
      expect(typeof problem.type).toBe("string");
      expect(typeof problem.title).toBe("string");
    }
  }
  const after = await d1Fingerprint(env.DB);
  if (after === baseline) return;
  if (res.status >= 400) {
    expect.fail(
      `partial write: ${res.status} ${text.slice(0, 200)} changed D1 (${changedTables(baseline, after)}) for ${what}`,
    );
  }
  baseline = await quiesce();
}

beforeAll(async () => {
  const sign = (sub: string, roles: string[], extra: Partial<Parameters<typeof tokenFor>[0]> = {}) =>
    tokenFor({ sub, roles, org_id: TENANT, ...extra });
  tokens.admin = await sign("fuzz-admin", ["admin"]);
  tokens.operator = await sign("fuzz-operator", ["operator"]);
  tokens.viewer = await sign("fuzz-viewer", ["viewer"]);
  tokens.security = await sign("fuzz-security", ["security"]);
  tokens.stranger = await sign("fuzz-stranger", ["admin"], { org_id: "other-org" });
  tokens.expired = await sign("fuzz-admin", ["admin"], { expiresIn: "-1m" });

  await seed(
    "POST",
    "/v1/builds",
    { repo_url: "https://github.com/acme/app", metadata: { simulated_duration_ms: 0 } },
    (b) => b?.build_id,
    "id",
  );
  if (seeded.id) {
    const build = await waitBuildSettled(seeded.id);
    seeded.task_run_id = build.task_runs[0]?.task_run_id;
  }
  seeded.gate = "TEST_GATE";
  seeded.version = "1";
  await seed(
    "POST",
    "/v1/program/secrets",
    { name: "fuzz-secret", value: "supersecretvalue-123" },
    (s) => s?.secret_id,
    "secret_id",
  );
  await seed(
    "POST",
    "/v1/program/campaigns",
    { name: "fuzz", repos: ["https://github.com/acme/app"] },
    (c) => c?.campaign_id,
    "campaign_id",
  );
  await seed("POST", "/v1/program/policy-profiles", { name: "fuzz-profile" }, (p) => p?.profile_id, "profile_id");
  await seed("POST", "/v1/program/checklist", { release_id: "rel-fuzz" }, (r) => r?.release_id, "release_id");
  await seed(
    "POST",
    `/v1/program/campaigns/${seeded.campaign_id ?? "x"}/runs`,
    { repo: "https://github.com/acme/app", language: "ts", run_id: "run-fuzz", status: "completed" },
    (r) => r?.run_id,
    "run_id",
  );
  const body = JSON.stringify({ hello: "fuzz" });
  const id = `msg_${crypto.randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  const res = await call("POST", "/v1/program/webhook/ingest", {
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(ts),
      "webhook-signature": new Webhook(WEBHOOK_SECRET()).sign(id, new Date(ts * 1000), body),
    },
    body,
  });
  if (res.ok) seeded.delivery_id = ((await res.json()) as { delivery_id: string }).delivery_id;
  baseline = await quiesce();
}, 60_000);

/** A route with one param or literal segment replaced by a path-encoding piece (valid or not). */
function encodedPathArb(
  route: Route,
): fc.Arbitrary<{ method: string; path: string; headers: Record<string, string>; body: string | undefined }> {
  const segments = route.path.split("/").slice(1);
  return fc
    .record({
      index: fc.nat({ max: Math.max(0, segments.length - 1) }),
      piece: pathPieceArb,
      auth: fc.constantFrom(`Bearer ${tokens.admin}`, undefined),
    })
    .map(({ index, piece, auth }) => {
      const path = `/${segments.map((seg, i) => (i === index ? piece : seg.startsWith(":") ? (seeded[seg.slice(1)] ?? crypto.randomUUID()) : seg)).join("/")}`;
      const headers: Record<string, string> = auth === undefined ? {} : { authorization: auth };
      const body = route.method === "GET" ? undefined : "{}";
      if (body !== undefined) headers["content-type"] = "application/json";
      return { method: route.method, path, headers, body };
    });
}

async function checkEncoded(req: FuzzRequest): Promise<void> {
  const res = await send(req);
  statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  const what = describeReq(req);
  const type = res.headers.get("content-type") ?? "";
  const text = type.startsWith("text/event-stream") ? (await res.body?.cancel(), "") : await res.text();
  expect(res.status, `5xx for ${what}: ${text.slice(0, 400)}`).toBeLessThan(500);
  if (!decodes(req.path)) {
    expect(res.status, `malformed path not 400 for ${what}: ${text.slice(0, 200)}`).toBe(400);
    expect((JSON.parse(text) as { code: string }).code).toBe("malformed_path");
  }
  if (res.status >= 400) expect(type, `error without problem+json for ${what}`).toBe("application/problem+json");
  const after = await d1Fingerprint(env.DB);
  if (after === baseline) return;
  if (res.status >= 400)
    expect.fail(
      `partial write: ${res.status} ${text.slice(0, 200)} changed D1 (${changedTables(baseline, after)}) for ${what}`,
    );
  baseline = await quiesce();
}

afterAll(() => console.log(`fuzz: responses by status ${JSON.stringify(statuses)}`));

describe("fuzz: the route table", () => {
  it("is enumerated from the real app and includes the core routes", () => {
    const keys = new Set(ROUTES.map((r) => `${r.method} ${r.path}`));
    expect(ROUTES.length).toBeGreaterThan(80);
    for (const k of [
      "POST /v1/builds",
      "GET /v1/builds/:id",
      "POST /v1/program/webhook/ingest",
      "POST /v1/runner/callback",
      "GET /health",
    ])
      expect(keys).toContain(k);
  });

  it("seeds an entity for the common path params", () => {
    for (const name of ["id", "task_run_id", "secret_id", "campaign_id", "delivery_id"])
      expect(seeded[name], name).toBeTruthy();
  });
});

describe("fuzz: path encodings (every route, 0 5xx; a malformed one is 400 malformed_path)", () => {
  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))("%s", async (key, route) => {
    await fc.assert(fc.asyncProperty(encodedPathArb(route), checkEncoded), {
      numRuns: 8,
      seed: SEED + 17 + [...key].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) | 0, 0),
      endOnFailure: true,
    });
  });
});

describe("fuzz: every route answers hostile input with a known problem and no partial write", () => {
  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))("%s", async (key, route) => {
    await fc.assert(fc.asyncProperty(requestArb(route), checkOne), {
      numRuns: SCHEMA_ARBS.has(canonical(route)) ? RUNS_WITH_SCHEMA : RUNS,
      seed: SEED + [...key].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) | 0, 0),
      endOnFailure: true,
    });
  });
});
