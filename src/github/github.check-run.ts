/**
 * A finished build as a GitHub check run (issue 21; POST /repos/{owner}/{repo}/check-runs): the
 * conclusion from the build's final status, a title and summary with its finding counts, and its
 * top findings as annotations (GitHub takes at most 50 per request). Pure; the reports outbox
 * (github.reports.ts) sends it.
 */
import type { FindingDto } from "../findings/findings.service";
import { SEVERITY_RANK, normaliseSeverity } from "../findings/finding";

/** GitHub's limit of annotations per check-run request. */
export const MAX_ANNOTATIONS = 50;
/** GitHub's limits on the annotation and output texts. */
const MAX_MESSAGE = 64 * 1024;
const MAX_TITLE = 255;
const MAX_SUMMARY = 65_535;

export type Conclusion = "success" | "failure" | "neutral";
export type AnnotationLevel = "notice" | "warning" | "failure";

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: AnnotationLevel;
  message: string;
  title?: string;
}

export interface CheckRunRequest {
  name: string;
  head_sha: string;
  status: "completed";
  conclusion: Conclusion;
  completed_at: string;
  details_url?: string;
  external_id: string;
  output: { title: string; summary: string; annotations: Annotation[] };
}

/** The build as the check run needs it. */
export interface FinishedBuild {
  build_id: string;
  final_status: "completed" | "failed" | "aborted";
  finished_at: string;
  head_sha: string;
  findings_total: number;
}

export const CHECK_RUN_NAME = "Clarity scan";

/** completed → success, failed → failure, aborted (e.g. superseded by a newer push) → neutral. */
export function conclusionOf(status: FinishedBuild["final_status"]): Conclusion {
  switch (status) {
    case "completed":
      return "success";
    case "failed":
      return "failure";
    case "aborted":
      return "neutral";
  }
}

/** critical/high → failure, medium → warning, low/info → notice. */
export function annotationLevel(severity: string): AnnotationLevel {
  const rank = SEVERITY_RANK[normaliseSeverity(severity)];
  return rank >= SEVERITY_RANK.high ? "failure" : rank === SEVERITY_RANK.medium ? "warning" : "notice";
}

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/**
 * The most severe findings that point at a file line, as annotations (at most `max`, in the order
 * given: most severe first). Findings without a file or line cannot be annotated and are skipped.
 */
export function findingsToAnnotations(
  findings: readonly Pick<FindingDto, "file" | "line" | "end_line" | "severity" | "title" | "detail" | "rule_id">[],
  max = MAX_ANNOTATIONS,
): Annotation[] {
  const out: Annotation[] = [];
  for (const f of findings) {
    if (out.length >= max) break;
    if (!f.file || f.line === null || f.line === undefined || f.line < 1) continue;
    const path = f.file.replace(/^\.?\//, "");
    const end = typeof f.end_line === "number" && f.end_line >= f.line ? f.end_line : f.line;
    const detail = f.detail ? `\n\n${f.detail}` : "";
    out.push({
      path,
      start_line: f.line,
      end_line: end,
      annotation_level: annotationLevel(f.severity),
      message: clip(`[${normaliseSeverity(f.severity)}] ${f.title}${detail}`, MAX_MESSAGE),
      ...(f.rule_id ? { title: clip(f.rule_id, MAX_TITLE) } : {}),
    });
  }
  return out;
}

/** Findings counted by normalised severity. */
export function severityCounts(findings: readonly { severity: string }[]): Record<string, number> {
  const counts: Record<string, number> = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  for (const f of findings) counts[normaliseSeverity(f.severity)] = (counts[normaliseSeverity(f.severity)] ?? 0) + 1;
  return counts;
}

/** The check-run request body of a finished build with its findings (most severe first). */
export function checkRunRequest(
  b: FinishedBuild,
  findings: Parameters<typeof findingsToAnnotations>[0],
  detailsUrl: string | null,
): CheckRunRequest {
  const annotations = findingsToAnnotations(findings);
  const conclusion = conclusionOf(b.final_status);
  const counts = severityCounts(findings);
  const countLine = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([sev, n]) => `${n} ${sev}`)
    .join(", ");
  const title = clip(
    `Build ${b.final_status}: ${b.findings_total} finding${b.findings_total === 1 ? "" : "s"}`,
    MAX_TITLE,
  );
  const summary = clip(
    [
      `Clarity build \`${b.build_id}\` ${b.final_status}.`,
      b.findings_total === 0 ? "No findings." : `Findings: ${countLine || b.findings_total}.`,
      annotations.length > 0 ? `The ${annotations.length} most severe findings with a location are annotated.` : "",
    ]
      .filter((l) => l !== "")
      .join("\n\n"),
    MAX_SUMMARY,
  );
  return {
    name: CHECK_RUN_NAME,
    head_sha: b.head_sha,
    status: "completed",
    conclusion,
    completed_at: b.finished_at,
    ...(detailsUrl ? { details_url: detailsUrl } : {}),
    external_id: b.build_id,
    output: { title, summary, annotations },
  };
}
