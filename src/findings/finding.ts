/**
 * The finding model shared by the findings core (issue 16): the closed severity scale with its
 * ranks, the baseline states, and `ScanFinding`, the fields fingerprint/baseline/gate/SARIF read.
 * Pure, imports no domain: a runner's `RunnerFinding`, a `FindingInput` and a stored finding's
 * DTO all fit `ScanFinding`, so the builds domain calls these modules without mapping.
 */

/** Severities, most severe first (the scale the run machine normalises runner values to). */
export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** 4 critical · 3 high · 2 medium · 1 low · 0 info — the `findings.severity_rank` column. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

/** A runner's severity text on the closed scale; anything unknown is `info` (as on ingest). */
export function normaliseSeverity(value: string): Severity {
  const s = value.trim().toLowerCase();
  return (SEVERITIES as readonly string[]).includes(s) ? (s as Severity) : "info";
}

/**
 * A finding's state against the previous finished build of the same repository and branch:
 * - `new`: no finding with its fingerprint in the previous build (or there is no previous build);
 * - `unchanged`: the previous build had a finding with the same fingerprint.
 * Findings of the previous build that are gone now are listed as `fixed`, not given a state.
 */
export const FINDING_STATES = ["new", "unchanged"] as const;
export type FindingState = (typeof FINDING_STATES)[number];

/** The fields of a finding the findings core reads; optional ones may be absent or null. */
export interface ScanFinding {
  rule_id?: string | null;
  tool?: string | null;
  severity: string;
  category: string;
  title: string;
  detail?: string | null;
  /** Path relative to the repository root, as the runner reports it. */
  file?: string | null;
  /** 1-based; 0 or null: the finding has no line (e.g. a whole-repository finding). */
  line?: number | null;
  end_line?: number | null;
  /** 1-based column of `line`. */
  column?: number | null;
  /** The finding's line with secret values masked by the runner. */
  snippet?: string | null;
}

/** A finding with its fingerprint (see `fingerprint.ts`). */
export type FingerprintedFinding<F extends ScanFinding = ScanFinding> = F & { fingerprint: string };

/**
 * A repository path in one canonical form: `/` separators, no leading `./` or `/`, no empty or
 * `.` segments. Fingerprints and SARIF artifact URIs both use it, so `./src/a.ts` and `src/a.ts`
 * are the same file.
 */
export function normalisePath(file: string): string {
  return file
    .replace(/\\/g, "/")
    .split("/")
    .filter((seg) => seg !== "" && seg !== ".")
    .join("/");
}
