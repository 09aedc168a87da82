/**
 * The POLICY_GATE's decision from findings (issue 16): counts by severity against a policy
 * profile's thresholds (defaults: any critical → FAIL, more than 5 high → FAIL), with a reason
 * that names the counts and the top findings. Pure; the run machine calls it when it evaluates
 * the gate, the build report uses `topFindings` for its recommendations.
 */
import { z } from "zod";
import {
  type FindingState,
  SEVERITIES,
  SEVERITY_RANK,
  type ScanFinding,
  type Severity,
  normaliseSeverity,
} from "./finding";

const limit = z.number().int().min(0).nullable();

/**
 * A policy profile's finding thresholds: the most findings of a severity the gate lets pass
 * (null: no limit). `scope: "new"` counts only findings whose baseline state is `new` (a finding
 * without a state counts as new, so a missing baseline never loosens the gate).
 */
export const FindingThresholds = z.strictObject({
  max_critical: limit.default(0),
  max_high: limit.default(5),
  max_medium: limit.default(null),
  max_low: limit.default(null),
  max_info: limit.default(null),
  scope: z.enum(["all", "new"]).default("all"),
});
export type FindingThresholds = z.output<typeof FindingThresholds>;

/**
 * Thresholds a build's POLICY_GATE accepts (build metadata, policy profiles). The in-run gate
 * decides as results arrive, before the build's baseline is known (it is computed when the build
 * finishes), so it counts every finding: `scope: "new"` is refused with a clear 422 rather than
 * accepted and not applied. `evaluateGate` applies it to findings whose states are known.
 */
export const BuildFindingThresholds = FindingThresholds.refine((t) => t.scope === "all", {
  path: ["scope"],
  message: 'the in-run POLICY_GATE counts every finding; scope "new" is not supported there',
});
/** Thresholds as a policy profile stores them: every field optional. */
export type FindingThresholdsInput = z.input<typeof FindingThresholds>;

export const DEFAULT_FINDING_THRESHOLDS: FindingThresholds = FindingThresholds.parse({});

/**
 * The gate's verdict:
 * - `PASS`: no severity's count is above its threshold;
 * - `FAIL`: at least one is (`breaches` lists them).
 */
export type GateVerdict = "PASS" | "FAIL";

export interface GateDecision<F extends ScanFinding = ScanFinding> {
  verdict: GateVerdict;
  /** One line: the verdict, the counts against their limits, and the top findings (rule, file:line). */
  reason: string;
  /** Counts of the findings in scope, by severity. */
  counts: Record<Severity, number>;
  breaches: { severity: Severity; count: number; max: number }[];
  /** The most severe findings in scope (of the breached severities when FAIL), at most 5. */
  top: F[];
  scope: FindingThresholds["scope"];
}

const MAX_KEY = {
  critical: "max_critical",
  high: "max_high",
  medium: "max_medium",
  low: "max_low",
  info: "max_info",
} as const satisfies Record<Severity, keyof FindingThresholds>;

const byPosition = (a: string | null | undefined, b: string | null | undefined) =>
  (a ?? "\uffff").localeCompare(b ?? "\uffff");

/**
 * The `n` most important findings: most severe first, then by file (findings without a file
 * last), line (without a line last) and rule id. Does not modify `findings`.
 */
export function topFindings<F extends ScanFinding>(findings: readonly F[], n: number): F[] {
  const line = (f: ScanFinding) => f.line || Number.MAX_SAFE_INTEGER;
  return [...findings]
    .sort(
      (a, b) =>
        SEVERITY_RANK[normaliseSeverity(b.severity)] - SEVERITY_RANK[normaliseSeverity(a.severity)] ||
        byPosition(a.file, b.file) ||
        line(a) - line(b) ||
        byPosition(a.rule_id ?? a.title, b.rule_id ?? b.title),
    )
    .slice(0, Math.max(0, n));
}

/** `rule at file:line` for reasons and recommendations (the title when there is no rule id). */
export function describeFinding(f: ScanFinding): string {
  const rule = f.rule_id ? (f.tool ? `${f.tool}/${f.rule_id}` : f.rule_id) : f.title;
  const where = f.file ? (f.line ? `${f.file}:${f.line}` : f.file) : null;
  return `${normaliseSeverity(f.severity)} ${rule}${where ? ` at ${where}` : ""}`;
}

/**
 * The gate's decision for a build's findings under `thresholds` (defaults when omitted; pass a
 * parsed `FindingThresholds` or a profile's stored input, which is parsed here and throws a
 * ZodError when malformed).
 */
export function evaluateGate<F extends ScanFinding & { state?: FindingState | null }>(
  findings: readonly F[],
  thresholds: FindingThresholdsInput = {},
): GateDecision<F> {
  const t = FindingThresholds.parse(thresholds);
  const inScope = t.scope === "new" ? findings.filter((f) => f.state !== "unchanged") : [...findings];
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of inScope) counts[normaliseSeverity(f.severity)]++;
  return evaluateCounts(counts, inScope, t);
}

/**
 * The decision from counts by severity and candidate top findings (the run machine keeps a
 * tally, not every finding): `candidates` must include the most severe findings counted.
 */
export function evaluateCounts<F extends ScanFinding>(
  counts: Readonly<Record<Severity, number>>,
  candidates: readonly F[],
  thresholds: FindingThresholdsInput | FindingThresholds = {},
): GateDecision<F> {
  const t = FindingThresholds.parse(thresholds);
  const total = SEVERITIES.reduce((n, s) => n + (counts[s] ?? 0), 0);
  const breaches: GateDecision["breaches"] = [];
  for (const s of SEVERITIES) {
    const max = t[MAX_KEY[s]];
    if (max !== null && counts[s] > max) breaches.push({ severity: s, count: counts[s], max });
  }
  const verdict: GateVerdict = breaches.length ? "FAIL" : "PASS";
  const breached = new Set(breaches.map((b) => b.severity));
  const top = topFindings(
    verdict === "FAIL" ? candidates.filter((f) => breached.has(normaliseSeverity(f.severity))) : candidates,
    5,
  );
  const parts = SEVERITIES.filter((s) => t[MAX_KEY[s]] !== null || counts[s] > 0).map((s) => {
    const max = t[MAX_KEY[s]];
    return `${counts[s]} ${s}${max !== null ? ` (max ${max})` : ""}`;
  });
  const scope = t.scope === "new" ? " new" : "";
  const what =
    total === 0 ? `no${scope} findings` : `${total}${scope} finding${total === 1 ? "" : "s"}: ${parts.join(", ")}`;
  const reason = `${verdict}: ${what}${top.length ? `; top: ${top.map(describeFinding).join("; ")}` : ""}`;
  return { verdict, reason, counts: { ...counts }, breaches, top, scope: t.scope };
}
