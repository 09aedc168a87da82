/**
 * The policy-check decision of SPEC §6.2, pure: blocked commands are case-insensitive
 * substrings of the trimmed command, restricted paths are case-sensitive prefixes of the trimmed
 * path (so `/.git` also blocks `/.github/x`), first match in stored order wins.
 * Called by policy.service.ts.
 */

export interface PolicyRules {
  blocked_commands: readonly string[];
  restricted_paths: readonly string[];
}

export type PolicyViolationCode = "blocked_command" | "restricted_path";

export interface PolicyDecision {
  action: "ALLOW" | "BLOCK";
  reason: string;
  violation_code: PolicyViolationCode | null;
}

/** Trims every entry and drops the empty ones; case and order are kept (SPEC §6.2 create). */
export function cleanEntries(entries: readonly string[]): string[] {
  return entries.map((e) => e.trim()).filter((e) => e !== "");
}

export function decidePolicy(rules: PolicyRules, command: string, path?: string | null): PolicyDecision {
  const cmd = command.trim().toLowerCase();
  const p = (path ?? "").trim();
  for (const entry of rules.blocked_commands) {
    if (cmd.includes(entry.toLowerCase())) {
      return { action: "BLOCK", reason: `blocked_command:${entry}`, violation_code: "blocked_command" };
    }
  }
  for (const entry of rules.restricted_paths) {
    if (p.startsWith(entry)) {
      return { action: "BLOCK", reason: `restricted_path:${entry}`, violation_code: "restricted_path" };
    }
  }
  return { action: "ALLOW", reason: "policy_pass", violation_code: null };
}
