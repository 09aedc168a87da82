/**
 * Migration 0010 against real D1: the findings columns of issue 16 and builds.findings_summary
 * exist, round-trip through the drizzle schema, and the (build_id, fingerprint) index serves a
 * baseline lookup.
 */
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { FindingsSummary, summarize } from "../../src/findings/baseline";
import * as t from "../../src/db/schema";

describe("migration 0010_findings_columns", () => {
  it("stores and reads a finding's rule, tool, snippet, end line, column, fingerprint and state", async () => {
    const db = drizzle(env.DB);
    await db.insert(t.findings).values({
      findingId: "f-1",
      buildId: "b-cols",
      nodeId: "n",
      taskRunId: "r",
      severity: "critical",
      severityRank: 4,
      category: "secret",
      title: "found AWS Access Key ID",
      detail: "",
      file: "config/aws.ts",
      line: 3,
      ruleId: "aws/AWSAccessKeyID",
      tool: "secretlint",
      snippet: 'const k = "****";',
      endLine: 3,
      columnNumber: 22,
      fingerprint: "0123456789abcdef0123456789abcdef",
      state: "new",
      eventSeq: 1,
      createdAt: "2026-01-01T00:00:00.000Z",
    });
    const [row] = await db
      .select()
      .from(t.findings)
      .where(and(eq(t.findings.buildId, "b-cols"), eq(t.findings.fingerprint, "0123456789abcdef0123456789abcdef")));
    expect(row).toMatchObject({
      ruleId: "aws/AWSAccessKeyID",
      tool: "secretlint",
      snippet: 'const k = "****";',
      endLine: 3,
      columnNumber: 22,
      state: "new",
    });
    const plan = await env.DB.prepare(
      "EXPLAIN QUERY PLAN SELECT finding_id FROM findings WHERE build_id = ? AND fingerprint = ?",
    )
      .bind("b-cols", "x")
      .all<{ detail: string }>();
    expect(plan.results.map((p) => p.detail).join(" ")).toContain("findings_build_fingerprint_idx");
  });

  it("leaves the new finding columns null for rows written without them", async () => {
    await env.DB.prepare(
      "INSERT INTO findings (finding_id, build_id, node_id, task_run_id, severity, severity_rank, category, title, detail, event_seq, created_at) VALUES ('f-old', 'b-old', 'n', 'r', 'low', 1, 'c', 't', '', 1, 'x')",
    ).run();
    const row = await env.DB.prepare(
      "SELECT rule_id, tool, snippet, end_line, column_number, fingerprint, state FROM findings WHERE finding_id = 'f-old'",
    ).first();
    expect(row).toEqual({
      rule_id: null,
      tool: null,
      snippet: null,
      end_line: null,
      column_number: null,
      fingerprint: null,
      state: null,
    });
  });

  it("stores a build's findings_summary as JSON, null by default", async () => {
    const db = drizzle(env.DB);
    const base = {
      tenantId: "t",
      createdBy: "u",
      repoUrl: "https://github.com/example-org/r",
      objective: "scan",
      status: "completed",
      scanMode: "full",
      metadata: {},
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
    };
    const summary = summarize([{ severity: "high", state: "new" }], 2, "b-prev");
    await db.insert(t.builds).values([
      { ...base, buildId: "b-sum", findingsSummary: summary },
      { ...base, buildId: "b-nosum" },
    ]);
    const rows = await db
      .select({ id: t.builds.buildId, s: t.builds.findingsSummary })
      .from(t.builds)
      .where(eq(t.builds.tenantId, "t"));
    const byId = Object.fromEntries(rows.map((r) => [r.id, r.s]));
    expect(FindingsSummary.parse(byId["b-sum"])).toEqual(summary);
    expect(byId["b-nosum"]).toBeNull();
  });
});
