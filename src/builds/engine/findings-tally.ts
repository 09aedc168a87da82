/**
 * The run state's tally of a build's findings and the POLICY_GATE decided from it (issue 16):
 * the gate of the node that carries it passes or fails on the build's findings against the
 * build's `finding_thresholds` (src/findings/gate.ts), its reason naming counts and the top
 * findings. Pure.
 */
import { type GateDecision, evaluateCounts, topFindings } from "../../findings/gate";
import { SEVERITIES, type Severity, normaliseSeverity } from "../../findings/finding";
import type { BuildState, FindingRow, FindingTally, TallyFinding } from "./run-state";

/** How many of the most severe findings the tally keeps (the gate's reason names 5). */
const TOP = 5;

export function emptyTally(): FindingTally {
  return { counts: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>, top: [] };
}

/** Counts a new finding and keeps it if it is among the most severe. */
export function tallyFinding(t: FindingTally, f: FindingRow): void {
  t.counts[normaliseSeverity(f.severity)]++;
  const kept: TallyFinding = {
    severity: f.severity,
    category: f.category,
    title: f.title,
    file: f.file,
    line: f.line,
    rule_id: f.rule_id,
    tool: f.tool,
  };
  t.top = topFindings([...t.top, kept], TOP);
}

/** The POLICY_GATE's decision from the build's findings so far. */
export function policyGate(s: BuildState): GateDecision<TallyFinding> {
  return evaluateCounts(s.findings.counts, s.findings.top, s.settings.finding_thresholds);
}
