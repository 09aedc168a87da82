/**
 * The findings service on real D1 (issue 16): baselines between two scans of a repository and
 * branch (the fixture's second scan shifts lines, removes one planted problem and adds another),
 * filtered keyset pages, and the SARIF log with fixed results as `absent`.
 */
import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import * as t from "../../src/db/schema";
import type { ScanFinding } from "../../src/findings/finding";
import { fingerprintFindings } from "../../src/findings/fingerprint";
import { computeBaseline, findingsPage, sarifLog } from "../../src/findings/findings.service";
import * as repo from "../../src/findings/findings.repo";
import { scanA, scanB } from "./fixtures";

const db = drizzle(env.DB);
const rank = { critical: 4, high: 3, medium: 2, low: 1, info: 0 } as Record<string, number>;

async function seedBuild(
  id: string,
  opts: { tenant: string; repo: string; at: string; status?: string; real?: boolean; findings: ScanFinding[] },
) {
  await db.insert(t.builds).values({
    buildId: id,
    tenantId: opts.tenant,
    createdBy: "u",
    repoUrl: opts.repo,
    objective: "scan",
    status: opts.status ?? "completed",
    scanMode: "full",
    metadata: opts.real === false ? { runner_kind: "simulated" } : { runner_kind: "http" },
    createdAt: opts.at,
    updatedAt: opts.at,
  });
  const printed = await fingerprintFindings(opts.findings);
  if (printed.length === 0) return;
  const rows = printed.map((f, i) => ({
    findingId: `${id}-f${i}`,
    buildId: id,
    nodeId: f.tool === "builder" ? "builder" : "security",
    taskRunId: `${id}-run`,
    severity: f.severity,
    severityRank: rank[f.severity] ?? 0,
    category: f.category,
    title: f.title,
    detail: f.detail ?? "",
    file: f.file ?? null,
    line: f.line ?? null,
    ruleId: f.rule_id ?? null,
    tool: f.tool ?? null,
    snippet: f.snippet ?? null,
    endLine: f.end_line ?? null,
    columnNumber: f.column ?? null,
    fingerprint: f.fingerprint,
    eventSeq: i + 1,
    createdAt: opts.at,
  }));
  for (const row of rows) await db.insert(t.findings).values(row); // one row per statement: D1 binds at most 100 values
}

describe("findings service (issue 16)", () => {
  it("the second scan of a repository and branch: exactly one fixed, one new, the rest unchanged", async () => {
    const tenant = "org-findings-baseline";
    const repoUrl = "https://github.com/acme/app#main";
    await seedBuild("fb-older", { tenant, repo: repoUrl, at: "2026-01-01T00:00:00.000Z", findings: scanB }); // older unrelated scan
    await seedBuild("fb-a", { tenant, repo: repoUrl, at: "2026-01-02T00:00:00.000Z", findings: scanA });
    await seedBuild("fb-sim", { tenant, repo: repoUrl, at: "2026-01-02T12:00:00.000Z", real: false, findings: [] }); // never a baseline of a real scan
    await seedBuild("fb-other-branch", {
      tenant,
      repo: "https://github.com/acme/app#dev",
      at: "2026-01-02T13:00:00.000Z",
      findings: [],
    });
    await seedBuild("fb-other-tenant", {
      tenant: "org-else",
      repo: repoUrl,
      at: "2026-01-02T14:00:00.000Z",
      findings: [],
    });
    await seedBuild("fb-b", { tenant, repo: repoUrl, at: "2026-01-03T00:00:00.000Z", findings: scanB });

    const current = await repo.buildFindings(db, "fb-b");
    const subject = { buildId: "fb-b", tenantId: tenant, repoUrl, createdAt: "2026-01-03T00:00:00.000Z", real: true };
    const baseline = await computeBaseline(db, subject, current);
    expect(baseline.baseline_build_id).toBe("fb-a");
    expect(baseline.fixed.map((f) => f.ruleId)).toEqual(["no-eval"]);
    const fresh = current.filter((f) => baseline.states.get(f.findingId) === "new");
    expect(fresh.map((f) => f.ruleId)).toEqual(["no-new-function"]);
    expect(baseline.summary).toMatchObject({
      total: current.length,
      new: 1,
      unchanged: current.length - 1,
      fixed: 1,
      baseline_build_id: "fb-a",
    });

    // The first scan has no baseline: everything is new, nothing fixed.
    const first = await computeBaseline(
      db,
      { ...subject, buildId: "fb-older", createdAt: "2026-01-01T00:00:00.000Z" },
      await repo.buildFindings(db, "fb-older"),
    );
    expect(first.baseline_build_id).toBeNull();
    expect(first.summary).toMatchObject({ new: scanB.length, unchanged: 0, fixed: 0 });

    // A simulated build scanned nothing: no baseline, even with a finished simulated build before it.
    const simulated = await computeBaseline(
      db,
      { ...subject, buildId: "fb-sim-2", createdAt: "2026-01-04T00:00:00.000Z", real: false },
      [],
    );
    expect(simulated.baseline_build_id).toBeNull();
    expect(simulated.summary).toMatchObject({ total: 0, new: 0, unchanged: 0, fixed: 0, baseline_build_id: null });

    // States persist through the chunked updates; the filters read them.
    await db.batch(repo.stateStatements(db, baseline.states) as [never, ...never[]]);
    const onlyNew = await findingsPage(db, "fb-b", { state: "new", limit: 50 });
    expect(onlyNew.items.map((f) => [f.rule_id, f.state])).toEqual([["no-new-function", "new"]]);

    // SARIF: results carry baselineState, the fixed one comes back as absent.
    const log = await sarifLog(
      db,
      { build_id: "fb-b", repo_url: repoUrl, summary: baseline.summary },
      { name: "clarity", version: "0.1.0" },
    );
    const results = log.runs.flatMap((r) => r.results ?? []);
    expect(results.filter((r) => r.baselineState === "absent").map((r) => r.ruleId)).toEqual(["no-eval"]);
    expect(results.filter((r) => r.baselineState === "new").map((r) => r.ruleId)).toEqual(["no-new-function"]);
    expect(results.filter((r) => r.baselineState === "unchanged")).toHaveLength(current.length - 1);
  });

  it("pages most severe first with an opaque cursor and filters by severity, category, node and rule", async () => {
    await seedBuild("fp-1", {
      tenant: "org-findings-page",
      repo: "https://github.com/acme/p",
      at: "2026-01-01T00:00:00.000Z",
      findings: scanA,
    });
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await findingsPage(db, "fp-1", { limit: 3, cursor });
      seen.push(...page.items.map((f) => f.finding_id));
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    const all = await repo.buildFindings(db, "fp-1");
    expect(new Set(seen).size).toBe(all.length);
    const severities = (await findingsPage(db, "fp-1", { limit: 50 })).items.map((f) => rank[f.severity]!);
    expect(severities).toEqual([...severities].sort((a, b) => b - a));

    expect(
      (await findingsPage(db, "fp-1", { min_severity: "high", limit: 50 })).items.every((f) => rank[f.severity]! >= 3),
    ).toBe(true);
    expect((await findingsPage(db, "fp-1", { category: "xss", limit: 50 })).items).toHaveLength(2);
    expect((await findingsPage(db, "fp-1", { rule_id: "no-eval", limit: 50 })).items.map((f) => f.file)).toEqual([
      "src/handlers/run.js",
    ]);
    expect((await findingsPage(db, "fp-1", { node_id: "builder", limit: 50 })).items.map((f) => f.rule_id)).toEqual([
      "test-suite-fails",
    ]);
    await expect(findingsPage(db, "fp-1", { limit: 3, cursor: "bm90LWEtY3Vyc29y" })).rejects.toMatchObject({
      code: "validation_failed",
    });
  });
});
