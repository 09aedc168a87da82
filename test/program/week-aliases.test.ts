import { describe, expect, it } from "vitest";
import {
  ALL_WEEK_ALIASES,
  PROGRAM_PLANE_WEEK_ALIASES,
  SECURITY_PLANE_WEEK_ALIASES,
} from "../../src/program/week-aliases";
import { type Caller, caller } from "../helpers/api";

/** SPEC §6.10, verbatim (method, alias, canonical) with `{param}` as in the SPEC table. */
const SPEC_TABLE = [
  ["POST", "/v1/program/week7/campaigns", "/v1/program/campaigns"],
  ["GET", "/v1/program/week7/campaigns/{campaign_id}", "/v1/program/campaigns/{campaign_id}"],
  ["POST", "/v1/program/week8/campaigns/{campaign_id}/runs", "/v1/program/campaigns/{campaign_id}/runs"],
  ["GET", "/v1/program/week8/campaigns/{campaign_id}/report", "/v1/program/campaigns/{campaign_id}/report"],
  ["POST", "/v1/program/week9/policy-profiles", "/v1/program/policy-profiles"],
  ["POST", "/v1/program/week9/policy-check", "/v1/program/policy-check"],
  ["POST", "/v1/program/week10/secrets", "/v1/program/secrets"],
  ["GET", "/v1/program/week10/secrets", "/v1/program/secrets"],
  ["GET", "/v1/program/week10/secrets/{secret_id}", "/v1/program/secrets/{secret_id}"],
  ["POST", "/v1/program/week11/webhook/ingest", "/v1/program/webhook/ingest"],
  ["POST", "/v1/program/week12/idempotent-checkpoints", "/v1/program/idempotent-checkpoints"],
  ["GET", "/v1/program/week13/slo-summary", "/v1/program/slo-summary"],
  ["POST", "/v1/program/week14/checklist", "/v1/program/checklist"],
  ["GET", "/v1/program/week14/checklist/{release_id}", "/v1/program/checklist/{release_id}"],
  ["POST", "/v1/program/week15/rollback-drills", "/v1/program/rollback-drills"],
  ["GET", "/v1/program/week15/rollback-drills/{release_id}", "/v1/program/rollback-drills/{release_id}"],
  ["POST", "/v1/program/week16/go-live-decision", "/v1/program/go-live-decision"],
  ["GET", "/v1/program/week16/go-live-decision/{release_id}", "/v1/program/go-live-decision/{release_id}"],
] as const;

const hono = (p: string) => p.replace(/\{(\w+)\}/g, ":$1");

interface World {
  c: Caller;
  ids: Record<string, string>;
}

/** Drops what legitimately differs between two identical worlds: timestamps and generated ids. */
function normalise(value: unknown, world: World): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v, world));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !k.endsWith("_at") && k !== "request_id")
        .map(([k, v]) => [k, normalise(v, world)]),
    );
  }
  if (typeof value === "string") {
    let s = value;
    for (const [name, id] of Object.entries(world.ids)) s = s.split(id).join(`<${name}>`);
    return s;
  }
  return value;
}

const fill = (path: string, ids: Record<string, string>) =>
  path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(ids[name] ?? `missing-${name}`));

/** The 13 program-plane aliases, each as a request that must succeed; run in order in each world. */
const STEPS: Array<{
  canonical: string;
  method: "GET" | "POST";
  body?: (ids: Record<string, string>) => unknown;
  save?: [string, string];
}> = [
  {
    method: "POST",
    canonical: "/v1/program/campaigns",
    body: () => ({ name: "alias", repos: ["a"], runs_per_repo: 3 }),
    save: ["campaign_id", "campaign_id"],
  },
  { method: "GET", canonical: "/v1/program/campaigns/:campaign_id" },
  {
    method: "POST",
    canonical: "/v1/program/campaigns/:campaign_id/runs",
    body: () => ({ repo: "a", language: "ts", run_id: "a-1", status: "completed", duration_ms: 10 }),
  },
  { method: "GET", canonical: "/v1/program/campaigns/:campaign_id/report" },
  {
    method: "POST",
    canonical: "/v1/program/policy-profiles",
    body: () => ({ name: "p", blocked_commands: ["rm -rf"], restricted_paths: ["/.git"] }),
    save: ["profile_id", "profile_id"],
  },
  {
    method: "POST",
    canonical: "/v1/program/policy-check",
    body: (ids) => ({ profile_id: ids.profile_id, command: "cat", path: "/.github/x" }),
  },
  { method: "GET", canonical: "/v1/program/slo-summary" },
  { method: "POST", canonical: "/v1/program/checklist", body: () => ({ release_id: "rel 1", security_review: true }) },
  { method: "GET", canonical: "/v1/program/checklist/:release_id" },
  {
    method: "POST",
    canonical: "/v1/program/rollback-drills",
    body: () => ({ release_id: "rel 1", passed: true, duration_minutes: 12 }),
  },
  { method: "GET", canonical: "/v1/program/rollback-drills/:release_id" },
  {
    method: "POST",
    canonical: "/v1/program/go-live-decision",
    body: (ids) => ({ release_id: "rel 1", campaign_id: ids.campaign_id }),
  },
  { method: "GET", canonical: "/v1/program/go-live-decision/:release_id" },
];

describe("week-prefixed aliases (SPEC §6.10)", () => {
  it("lists all 18 SPEC aliases: 13 mounted by the program plane, 5 left to the security plane's routes", () => {
    const asData = ALL_WEEK_ALIASES.map((a) => [a.method, a.alias, a.canonical]);
    expect(asData).toEqual(expect.arrayContaining(SPEC_TABLE.map(([m, a, c]) => [m, hono(a), hono(c)])));
    expect(ALL_WEEK_ALIASES).toHaveLength(18);
    expect(PROGRAM_PLANE_WEEK_ALIASES).toHaveLength(13);
    expect(SECURITY_PLANE_WEEK_ALIASES.map((a) => a.canonical)).toEqual([
      "/v1/program/secrets",
      "/v1/program/secrets",
      "/v1/program/secrets/:secret_id",
      "/v1/program/webhook/ingest",
      "/v1/program/idempotent-checkpoints",
    ]);
    expect(new Set(STEPS.map((s) => `${s.method} ${s.canonical}`))).toEqual(
      new Set(PROGRAM_PLANE_WEEK_ALIASES.map((a) => `${a.method} ${a.canonical}`)),
    );
  });

  it("each of the 13 program aliases answers exactly like its canonical route, plus Deprecation, Sunset and Link", async () => {
    // Two tenants, same user: one world is driven through canonical paths, the other through aliases.
    const canon: World = {
      c: await caller({ sub: "alias_user", org_id: "org-alias-canon", roles: ["operator"] }),
      ids: { release_id: "rel 1" },
    };
    const alias: World = {
      c: await caller({ sub: "alias_user", org_id: "org-alias-alias", roles: ["operator"] }),
      ids: { release_id: "rel 1" },
    };
    for (const step of STEPS) {
      const entry = PROGRAM_PLANE_WEEK_ALIASES.find((a) => a.method === step.method && a.canonical === step.canonical);
      if (!entry) throw new Error(`no alias for ${step.canonical}`);
      const ra = await canon.c.request(step.method, fill(step.canonical, canon.ids), step.body?.(canon.ids));
      const rb = await alias.c.request(step.method, fill(entry.alias, alias.ids), step.body?.(alias.ids));
      if (step.save) {
        canon.ids[step.save[0]] = ra.body[step.save[1]];
        alias.ids[step.save[0]] = rb.body[step.save[1]];
      }
      const what = `${step.method} ${entry.alias}`;
      expect(ra.status, what).toBeGreaterThanOrEqual(200);
      expect(ra.status, what).toBeLessThan(300);
      expect(rb.status, what).toBe(ra.status);
      expect(normalise(rb.body, alias), what).toEqual(normalise(ra.body, canon));
      expect(rb.headers.get("content-type"), what).toBe(ra.headers.get("content-type"));
      expect(normalise(rb.headers.get("location"), alias), what).toEqual(normalise(ra.headers.get("location"), canon));

      expect(ra.headers.get("deprecation"), what).toBeNull();
      expect(rb.headers.get("deprecation"), what).toMatch(/^@\d+$/);
      expect(new Date(rb.headers.get("sunset") ?? "").getTime(), what).toBeGreaterThan(0);
      expect(rb.headers.get("link"), what).toBe(`<${fill(entry.canonical, alias.ids)}>; rel="successor-version"`);
    }
  });

  it("the 5 security-plane aliases (mounted by src/security) answer like their canonical routes too", async () => {
    // Side-effect-free requests only; their success paths are the security plane's suites.
    const admin = await caller({ sub: "alias_admin", org_id: "org-alias-sec", roles: ["admin"] });
    const missing = crypto.randomUUID();
    for (const a of SECURITY_PLANE_WEEK_ALIASES) {
      const [canonical, alias] = [a.canonical, a.alias].map((p) => p.replace(":secret_id", missing)) as [
        string,
        string,
      ];
      const body = a.method === "POST" ? {} : undefined;
      const ra = await admin.request(a.method, canonical, body);
      const rb = await admin.request(a.method, alias, body);
      const what = `${a.method} ${a.alias}`;
      expect(ra.body?.code, what).not.toBe("not_found");
      expect(rb.status, what).toBe(ra.status);
      expect({ ...rb.body, request_id: null }, what).toEqual({ ...ra.body, request_id: null });
      expect(rb.headers.get("deprecation"), what).toMatch(/^@\d+$/);
      expect(rb.headers.get("sunset"), what).toBeTruthy();
      expect(rb.headers.get("link"), what).toBe(`<${canonical}>; rel="successor-version"`);
    }
  });

  it("errors and capability checks are identical on an alias (with the deprecation headers)", async () => {
    const viewer = await caller({ sub: "alias_viewer", org_id: "org-alias-err", roles: ["viewer"] });
    const missing = crypto.randomUUID();
    for (const [canonical, alias] of [
      [`/v1/program/campaigns/${missing}`, `/v1/program/week7/campaigns/${missing}`],
      ["/v1/program/checklist/nope", "/v1/program/week14/checklist/nope"],
      ["/v1/program/campaigns/not-a-uuid", "/v1/program/week7/campaigns/not-a-uuid"],
    ]) {
      const [ra, rb] = [await viewer.request("GET", canonical as string), await viewer.request("GET", alias as string)];
      expect(rb.status).toBe(ra.status);
      expect({ ...rb.body, request_id: null }).toEqual({ ...ra.body, request_id: null });
      expect(rb.headers.get("deprecation")).toMatch(/^@\d+$/);
    }
    const [wa, wb] = [
      await viewer.request("POST", "/v1/program/campaigns", { name: "x" }),
      await viewer.request("POST", "/v1/program/week7/campaigns", { name: "x" }),
    ];
    expect([wa.status, wa.body.code]).toEqual([403, "insufficient_capability"]);
    expect([wb.status, wb.body.code, wb.body.detail]).toEqual([403, "insufficient_capability", wa.body.detail]);
  });
});
