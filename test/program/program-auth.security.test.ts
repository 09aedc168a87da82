/**
 * Capability matrix over every program route and its week alias (SPEC §6.9, enforcement on):
 * the required capability → 2xx; any other single capability → 403 insufficient_capability;
 * no capability → 403 capabilities_missing. Then tenancy (DESIGN §6): tenant A can neither read
 * nor overwrite tenant B's campaign, profile, checklist, drill or decision.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CAPABILITIES } from "../../src/kernel/principal";
import { PROGRAM_PLANE_WEEK_ALIASES } from "../../src/program/week-aliases";
import { type Caller, caller } from "../helpers/api";
import { expectProblem, operator, withCaps } from "./program-helpers";

const ORG = "org-matrix";
const REPO = "https://github.com/acme/matrix";
const ids: Record<string, string> = { release_id: "rel-m", run_id: "m-1" };

interface Route {
  method: "GET" | "POST";
  path: string;
  /** Every capability the route needs (execute also needs runtime.write). */
  caps: string[];
  body?: () => unknown;
}

const ROUTES: Route[] = [
  { method: "POST", path: "/v1/program/campaigns", caps: ["program.validation.write"], body: () => ({ name: "m" }) },
  { method: "GET", path: "/v1/program/campaigns", caps: ["program.validation.read"] },
  { method: "GET", path: "/v1/program/campaigns/:campaign_id", caps: ["program.validation.read"] },
  {
    method: "POST",
    path: "/v1/program/campaigns/:campaign_id/runs",
    caps: ["program.validation.write"],
    body: () => ({ repo: REPO, language: "ts", run_id: "m-1", status: "completed" }),
  },
  { method: "GET", path: "/v1/program/campaigns/:campaign_id/runs", caps: ["program.validation.read"] },
  { method: "GET", path: "/v1/program/campaigns/:campaign_id/runs/:run_id", caps: ["program.validation.read"] },
  { method: "GET", path: "/v1/program/campaigns/:campaign_id/report", caps: ["program.validation.read"] },
  {
    method: "POST",
    path: "/v1/program/campaigns/:campaign_id/execute",
    caps: ["program.validation.write", "program.runtime.write"],
    body: () => ({ metadata: { simulated_duration_ms: 0 } }),
  },
  {
    method: "POST",
    path: "/v1/program/policy-profiles",
    caps: ["program.policy.write"],
    body: () => ({ name: "m", blocked_commands: ["rm"] }),
  },
  { method: "GET", path: "/v1/program/policy-profiles", caps: ["program.policy.read"] },
  { method: "GET", path: "/v1/program/policy-profiles/:profile_id", caps: ["program.policy.read"] },
  {
    method: "POST",
    path: "/v1/program/policy-check",
    caps: ["program.policy.check"],
    body: () => ({ profile_id: ids.profile_id, command: "ls" }),
  },
  { method: "GET", path: "/v1/program/slo-summary", caps: ["program.runtime.read"] },
  {
    method: "POST",
    path: "/v1/program/checklist",
    caps: ["program.release.write"],
    body: () => ({ release_id: "rel-m" }),
  },
  { method: "GET", path: "/v1/program/checklist/:release_id", caps: ["program.release.read"] },
  {
    method: "POST",
    path: "/v1/program/rollback-drills",
    caps: ["program.release.write"],
    body: () => ({ release_id: "rel-m", passed: true, duration_minutes: 1 }),
  },
  { method: "GET", path: "/v1/program/rollback-drills/:release_id", caps: ["program.release.read"] },
  {
    method: "POST",
    path: "/v1/program/go-live-decision",
    caps: ["program.release.write"],
    body: () => ({ release_id: "rel-m" }),
  },
  { method: "GET", path: "/v1/program/go-live-decision/:release_id", caps: ["program.release.read"] },
];

// Every week alias has the capability of its canonical route.
const ALL_ROUTES: Route[] = [
  ...ROUTES,
  ...PROGRAM_PLANE_WEEK_ALIASES.map((a) => {
    const canonical = ROUTES.find((r) => r.method === a.method && r.path === a.canonical);
    if (!canonical) throw new Error(`no canonical route for ${a.alias}`);
    return { ...canonical, path: a.alias };
  }),
];

const fill = (path: string) =>
  path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(ids[name] ?? `missing-${name}`));
const label = (r: Route) => `${r.method} ${r.path}`;

describe("capability matrix over the program routes", () => {
  beforeAll(async () => {
    // Fixtures in the matrix tenant, so that every "allowed" request can succeed.
    const admin = await caller({ sub: "matrix_admin", org_id: ORG, roles: ["admin"] });
    ids.campaign_id = (
      await admin.request("POST", "/v1/program/campaigns", { name: "fixture", repos: [REPO], runs_per_repo: 1 })
    ).body.campaign_id;
    await admin.request("POST", `/v1/program/campaigns/${ids.campaign_id}/runs`, {
      repo: REPO,
      language: "ts",
      run_id: "m-1",
      status: "completed",
    });
    ids.profile_id = (await admin.request("POST", "/v1/program/policy-profiles", { name: "fixture" })).body.profile_id;
    await admin.request("POST", "/v1/program/checklist", { release_id: "rel-m" });
    await admin.request("POST", "/v1/program/rollback-drills", {
      release_id: "rel-m",
      passed: true,
      duration_minutes: 1,
    });
    await admin.request("POST", "/v1/program/go-live-decision", { release_id: "rel-m" });
  });

  it("covers every canonical route and its alias (19 + 13)", () => {
    expect(ROUTES).toHaveLength(19);
    expect(ALL_ROUTES).toHaveLength(32);
  });

  it.each(ALL_ROUTES.map((r) => [label(r), r] as const))("%s: required capability → 2xx", async (_l, r) => {
    const c = await withCaps(ORG, r.caps, `matrix_ok_${r.caps.join("+")}`);
    const res = await c.request(r.method, fill(r.path), r.body?.());
    if (r.path.endsWith("/execute")) {
      // A second execution while the first's builds run is a 409; either way the capability passed.
      expect([202, 409], JSON.stringify(res.body)).toContain(res.status);
    } else {
      expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(200);
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    }
  });

  it.each(ALL_ROUTES.map((r) => [label(r), r] as const))(
    "%s: any other single capability → 403 insufficient_capability",
    async (_l, r) => {
      for (const cap of CAPABILITIES.filter((x) => !r.caps.includes(x))) {
        const c = await withCaps(ORG, [cap], `matrix_other_${cap}`);
        const res = await c.request(r.method, fill(r.path), r.body?.());
        expectProblem(res, 403, "insufficient_capability");
      }
      if (r.caps.length > 1) {
        // Each required capability alone is not enough either.
        for (const cap of r.caps)
          expectProblem(
            await (await withCaps(ORG, [cap], `matrix_half_${cap}`)).request(r.method, fill(r.path), r.body?.()),
            403,
            "insufficient_capability",
          );
      }
    },
  );

  it.each(ALL_ROUTES.map((r) => [label(r), r] as const))(
    "%s: no capability → 403 capabilities_missing",
    async (_l, r) => {
      const c = await caller({ sub: "matrix_none", org_id: ORG, roles: ["authenticated"] });
      const res = await c.request(r.method, fill(r.path), r.body?.());
      expectProblem(res, 403, "capabilities_missing");
      expect(res.body.detail).toBe("Capability set missing for this request.");
    },
  );

  it("unauthenticated requests are 401 on every route", async () => {
    for (const r of ALL_ROUTES) {
      const res = await (await caller()).request(r.method, fill(r.path), r.body?.(), { authorization: "Bearer nope" });
      expect(res.status, label(r)).toBe(401);
    }
  });
});

describe("tenancy: program entities are scoped to the caller's tenant", () => {
  let a: Caller;
  let b: Caller;
  const rel = "shared-release-name";
  const theirs: Record<string, string> = {};

  beforeAll(async () => {
    a = await operator("org-tenant-a", "user_same");
    b = await operator("org-tenant-b", "user_same"); // same user id, different tenant
    theirs.campaign = (await b.request("POST", "/v1/program/campaigns", { name: "b-campaign" })).body.campaign_id;
    await b.request("POST", `/v1/program/campaigns/${theirs.campaign}/runs`, {
      repo: "r",
      language: "ts",
      run_id: "r-1",
      status: "completed",
    });
    theirs.profile = (
      await b.request("POST", "/v1/program/policy-profiles", { name: "b-profile", blocked_commands: ["rm"] })
    ).body.profile_id;
    await b.request("POST", "/v1/program/checklist", { release_id: rel, security_review: true });
    await b.request("POST", "/v1/program/rollback-drills", { release_id: rel, passed: true, duration_minutes: 7 });
    await b.request("POST", "/v1/program/go-live-decision", { release_id: rel });
  });

  it("campaigns: A cannot read, list, ingest into, report on, execute or use B's campaign", async () => {
    const id = theirs.campaign;
    expectProblem(await a.request("GET", `/v1/program/campaigns/${id}`), 404, "campaign_not_found");
    expectProblem(await a.request("GET", `/v1/program/campaigns/${id}/report`), 404, "campaign_not_found");
    expectProblem(await a.request("GET", `/v1/program/campaigns/${id}/runs`), 404, "campaign_not_found");
    expectProblem(await a.request("GET", `/v1/program/campaigns/${id}/runs/r-1`), 404, "campaign_not_found");
    expectProblem(
      await a.request("POST", `/v1/program/campaigns/${id}/runs`, {
        repo: "r",
        language: "ts",
        run_id: "r-1",
        status: "failed",
      }),
      404,
      "campaign_not_found",
    );
    expectProblem(await a.request("POST", `/v1/program/campaigns/${id}/execute`, {}), 404, "campaign_not_found");
    expectProblem(
      await a.request("POST", "/v1/program/go-live-decision", { release_id: "x", campaign_id: id }),
      404,
      "campaign_not_found",
    );
    expect((await a.request("GET", "/v1/program/campaigns")).body.items).toEqual([]);
    expect((await b.request("GET", `/v1/program/campaigns/${id}/runs/r-1`)).body.status).toBe("completed");
  });

  it("policy profiles: A can neither read, list nor check with B's profile", async () => {
    expectProblem(
      await a.request("GET", `/v1/program/policy-profiles/${theirs.profile}`),
      404,
      "policy_profile_not_found",
    );
    expectProblem(
      await a.request("POST", "/v1/program/policy-check", { profile_id: theirs.profile, command: "rm" }),
      404,
      "policy_profile_not_found",
    );
    expect((await a.request("GET", "/v1/program/policy-profiles")).body.items).toEqual([]);
  });

  it("checklist, drill and decision: A reads 404 and its writes to the same release id never touch B's records", async () => {
    expectProblem(await a.request("GET", `/v1/program/checklist/${rel}`), 404, "checklist_not_found");
    expectProblem(await a.request("GET", `/v1/program/rollback-drills/${rel}`), 404, "rollback_drill_not_found");
    expectProblem(await a.request("GET", `/v1/program/go-live-decision/${rel}`), 404, "go_live_decision_not_found");

    // A's writes create A's own records (201, not a 200 replace of B's).
    expect(
      (
        await a.request("POST", "/v1/program/checklist", {
          release_id: rel,
          ...{ security_review: false, docs_complete: true },
        })
      ).status,
    ).toBe(201);
    expect(
      (await a.request("POST", "/v1/program/rollback-drills", { release_id: rel, passed: false, duration_minutes: 99 }))
        .status,
    ).toBe(201);
    const aDecision = await a.request("POST", "/v1/program/go-live-decision", {
      release_id: rel,
      validation_release_ready: true,
    });
    expect(aDecision.status).toBe(201);
    // A's decision is made from A's records only.
    expect(aDecision.body.reasons).toEqual([
      "security_review_incomplete",
      "slo_dashboard_missing",
      "runbooks_not_ready",
      "rollback_not_tested",
      "rollback_drill_failed",
    ]);

    expect((await b.request("GET", `/v1/program/checklist/${rel}`)).body).toMatchObject({
      security_review: true,
      docs_complete: false,
    });
    expect((await b.request("GET", `/v1/program/rollback-drills/${rel}`)).body).toMatchObject({
      passed: true,
      duration_minutes: 7,
    });
    expect((await b.request("GET", `/v1/program/go-live-decision/${rel}`)).body).toMatchObject({
      status: "NO_GO",
      reasons: [
        "slo_dashboard_missing",
        "docs_incomplete",
        "runbooks_not_ready",
        "rollback_not_tested",
        "validation_not_release_ready",
      ],
    });
  });
});
