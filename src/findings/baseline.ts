/**
 * Baselines (issue 16): a build's findings against the previous finished build of the same
 * repository and branch, matched by fingerprint (`fingerprint.ts`), and the `findings_summary`
 * stored on the build. Pure; the caller loads both builds' findings and persists the result.
 */
import { z } from "zod";
import { type FindingState, SEVERITIES, type ScanFinding, type Severity, normaliseSeverity } from "./finding";

interface Printed {
  fingerprint: string;
}

/** The result of `diffBaseline`. */
export interface BaselineDiff<C extends Printed, P extends Printed> {
  /** Every current finding, in input order, with its state. */
  findings: (C & { state: FindingState })[];
  /** Previous findings whose fingerprint no current finding has (one per fingerprint), in input order. */
  fixed: P[];
  /** False when there was no previous build: every finding is then `new` and none is fixed. */
  has_baseline: boolean;
}

/**
 * Each current finding is `unchanged` when the previous build had a finding with its fingerprint,
 * else `new`; previous findings whose fingerprint is gone are `fixed`. `previous` null: no
 * previous finished build (the first scan of the repository and branch).
 */
export function diffBaseline<C extends Printed, P extends Printed>(
  current: readonly C[],
  previous: readonly P[] | null,
): BaselineDiff<C, P> {
  const before = new Set((previous ?? []).map((p) => p.fingerprint));
  const now = new Set(current.map((c) => c.fingerprint));
  const fixed: P[] = [];
  const seen = new Set<string>();
  for (const p of previous ?? []) {
    if (now.has(p.fingerprint) || seen.has(p.fingerprint)) continue;
    seen.add(p.fingerprint);
    fixed.push(p);
  }
  return {
    findings: current.map((c) => ({
      ...c,
      state: before.has(c.fingerprint) ? ("unchanged" as const) : ("new" as const),
    })),
    fixed,
    has_baseline: previous !== null,
  };
}

const count = z.number().int().min(0);

/**
 * Counts of a build's findings, stored as JSON in `builds.findings_summary` and served on the
 * build and in the builds list. `new`/`unchanged` count findings by state (findings stored before
 * baselines have none and count in neither); `fixed` counts the previous build's findings gone now.
 */
export const FindingsSummary = z.object({
  total: count,
  by_severity: z.object({ critical: count, high: count, medium: count, low: count, info: count }),
  new: count,
  unchanged: count,
  fixed: count,
  /** The build compared against; null when there was none. */
  baseline_build_id: z.string().nullable(),
});
export type FindingsSummary = z.infer<typeof FindingsSummary>;

/** The `findings_summary` of a build's findings (with states) and its fixed findings. */
export function summarize(
  findings: readonly (Pick<ScanFinding, "severity"> & { state?: FindingState | null })[],
  fixed: readonly unknown[] | number,
  baselineBuildId: string | null = null,
): FindingsSummary {
  const by_severity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  let fresh = 0;
  let unchanged = 0;
  for (const f of findings) {
    by_severity[normaliseSeverity(f.severity)]++;
    if (f.state === "new") fresh++;
    else if (f.state === "unchanged") unchanged++;
  }
  return {
    total: findings.length,
    by_severity,
    new: fresh,
    unchanged,
    fixed: typeof fixed === "number" ? fixed : fixed.length,
    baseline_build_id: baselineBuildId,
  };
}

/** A stored `findings_summary` (JSON column), or null when absent or not a summary. */
export function parseFindingsSummary(stored: unknown): FindingsSummary | null {
  // Null until the build finishes (and for every simulated build): no schema run for it.
  if (stored === null || stored === undefined) return null;
  const parsed = FindingsSummary.safeParse(stored);
  return parsed.success ? parsed.data : null;
}
