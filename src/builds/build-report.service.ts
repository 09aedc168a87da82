/**
 * A build's findings (issues 7 and 16, src/findings): filtered pages, the fixed list against the
 * baseline, the SARIF log, and the build report with its recommendations.
 */
import pkg from "../../package.json";
import * as findings from "../findings/findings.service";
import { type FindingFilters, findingsSummaryOf } from "../findings/findings.repo";
import { SEVERITIES } from "../findings/finding";
import { describeFinding, topFindings } from "../findings/gate";
import * as repo from "./builds.repo";
import { type Deps, authorizeBuild, getBuild } from "./builds.service";
import { parseRunSettings } from "./engine/run-settings";

type Reader = Pick<Deps, "db" | "principal">;

/** Findings most severe first, filtered (severity, severity at least, category, node, rule, state); opaque cursor. */
export async function listFindings(
  deps: Reader,
  buildId: string,
  q: FindingFilters & { limit: number; cursor?: string },
) {
  await authorizeBuild(deps, buildId);
  return findings.findingsPage(deps.db, buildId, q);
}

/** The findings of the baseline build that are gone in this one. */
export async function fixedFindings(deps: Reader, buildId: string) {
  await authorizeBuild(deps, buildId);
  const summary = await findingsSummaryOf(deps.db, buildId);
  return {
    baseline_build_id: summary?.baseline_build_id ?? null,
    items: await findings.fixedFindings(deps.db, buildId, summary),
  };
}

/** The build's findings as a SARIF 2.1.0 log (one run per tool; fixed ones `absent`). */
export async function findingsSarif(deps: Pick<Deps, "env" | "db" | "principal">, buildId: string, origin: string) {
  const build = await getBuild(deps, buildId);
  const summary = await findingsSummaryOf(deps.db, buildId);
  // The control plane describes itself and the runner's own checks (dependencies, inventory,
  // builder) with its version and its documentation page on this deployment.
  const product = { name: "clarity", version: pkg.version, informationUri: `${origin}/docs` };
  return findings.sarifLog(deps.db, { build_id: buildId, repo_url: build.repo_url, summary }, product, RUNNER_TOOLS);
}

/** The runner's maintained analyzers at the versions this release pins (package.json). */
const RUNNER_TOOLS = {
  secretlint: { version: pkg.dependencies["@secretlint/core"] },
  "ast-grep": { version: pkg.dependencies["@ast-grep/cli"] },
};

/** The build report: status, counts by severity and node, the most severe findings, the plan. */
export async function buildReport(deps: Pick<Deps, "env" | "db" | "principal">, buildId: string) {
  const build = await getBuild(deps, buildId);
  const all = await repo.allFindings(deps.db, buildId);
  const dtos = all.map(findings.findingDto);
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, all.filter((f) => f.severity === s).length]));
  const byNode: Record<string, number> = {};
  for (const f of all) byNode[f.nodeId] = (byNode[f.nodeId] ?? 0) + 1;
  const logs = await repo.listRunnerLogs(deps.db, buildId, { limit: 200 });
  const plannerNodes = new Set(build.dag.filter((n) => n.agent === "planner").map((n) => n.node_id));
  const plan = logs.find((l) => plannerNodes.has(l.nodeId) && l.status === "completed");
  return {
    build_id: buildId,
    status: build.status,
    repo_url: build.repo_url,
    execution: parseRunSettings(build.metadata).runner_kind === "http" ? ("real" as const) : ("simulated" as const),
    findings_total: all.length,
    by_severity: bySeverity,
    by_node: byNode,
    top_findings: dtos.slice(0, 20),
    findings_summary: await findingsSummaryOf(deps.db, buildId),
    // The most important findings to fix first (issue 16), most severe first.
    recommendations: topFindings(dtos, 5).map((f) => `fix ${describeFinding(f)}: ${f.title}`),
    nodes: build.dag.map((n) => {
      const log = logs.find((l) => l.nodeId === n.node_id);
      return {
        node_id: n.node_id,
        agent: n.agent,
        status: n.status,
        summary: log?.message ?? null,
        duration_ms: log?.durationMs ?? null,
      };
    }),
    remediation_plan: plan?.message ?? null,
  };
}
