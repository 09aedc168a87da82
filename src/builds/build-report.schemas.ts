/**
 * Request and response schemas of a build's findings and report (issues 7 and 16,
 * builds.routes.ts): the findings filters, a finding, its pages, the fixed list and the report.
 */
import { z } from "zod";
import { SEVERITIES } from "../findings/finding";
import { FindingsSummary } from "./builds.schemas";
import { BUILD_STATUSES } from "./builds.types";
import { int, opaqueCursor, registerResponses, ts } from "../kernel/api-schemas";

const limit = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);

const SEVERITY = z.enum(SEVERITIES);
export const FindingsQuery = z.object({
  severity: SEVERITY.optional().describe("Exactly this severity."),
  min_severity: SEVERITY.optional().describe("This severity or worse."),
  category: z.string().min(1).max(200).optional(),
  node_id: z.string().min(1).max(200).optional(),
  rule_id: z.string().min(1).max(300).optional(),
  state: z.enum(["new", "unchanged"]).optional().describe("Against the baseline build (set when the build finished)."),
  limit: limit(100, 500),
  cursor: z.string().min(1).max(200).optional().describe("`next_cursor` of the previous page."),
});

export const Finding = z.object({
  finding_id: z.uuid(),
  build_id: z.uuid(),
  node_id: z.string(),
  task_run_id: z.string(),
  rule_id: z
    .string()
    .nullable()
    .describe("The rule that fired (e.g. `aws/AWSAccessKeyID`, `js-exec-user-input`); null for findings without one."),
  tool: z
    .string()
    .nullable()
    .describe("The tool that produced the finding (secretlint, ast-grep, dependencies, inventory, builder)."),
  severity: SEVERITY,
  category: z.string(),
  title: z.string(),
  detail: z.string(),
  file: z.string().nullable(),
  line: int.nullable(),
  end_line: int.nullable(),
  column: int.nullable().describe("1-based column of the start, when known."),
  snippet: z.string().nullable().describe("The line with any secret value masked."),
  fingerprint: z
    .string()
    .nullable()
    .describe("Stable identity of the problem across builds (tool, rule, file, masked content; not the line)."),
  state: z
    .enum(["new", "unchanged"])
    .nullable()
    .describe("Against the previous finished scan of the repository and branch; null until the build finished."),
  created_at: ts,
});
export const FindingPage = z.object({ items: z.array(Finding), next_cursor: opaqueCursor });

export const FixedFindings = z.object({
  baseline_build_id: z.string().nullable().describe("The build compared against; null for a first scan."),
  items: z.array(Finding).describe("Findings of the baseline build that are gone now."),
});

export const BuildReport = z.object({
  build_id: z.uuid(),
  status: z.enum(BUILD_STATUSES),
  repo_url: z.string(),
  execution: z
    .enum(["real", "simulated"])
    .describe("`real`: the nodes ran on the runner service; `simulated`: nothing was executed (issue 15)."),
  findings_total: int,
  by_severity: z.record(z.string(), int),
  by_node: z.record(z.string(), int),
  top_findings: z.array(Finding),
  findings_summary: FindingsSummary.nullable(),
  recommendations: z.array(z.string()).describe("The most important findings to fix first."),
  nodes: z.array(
    z.object({
      node_id: z.string(),
      agent: z.string(),
      status: z.string(),
      summary: z.string().nullable(),
      duration_ms: z.number().nullable(),
    }),
  ),
  remediation_plan: z.string().nullable(),
});

registerResponses({ Finding, FindingPage, FixedFindings, BuildReport });
