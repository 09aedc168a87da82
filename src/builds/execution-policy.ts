/**
 * Execution-policy pre-check (SPEC §4.8.3), run before any runtime adapter: required
 * capabilities, built-in and custom blocked commands, blocked roots and allow-lists. Pure: a
 * function of the build metadata, the node and the runner kind.
 */

export interface PolicyDenial {
  code: "missing_capability" | "blocked_command" | "blocked_path" | "path_outside_allowlist";
  message: string;
  command: string | null;
  details: Record<string, unknown>;
}

const BUILTIN_BLOCKED: ReadonlyArray<RegExp> = [
  /\bgit\s+reset\s+--hard\b/i,
  /\bgit\s+clean\s+-[a-z]*f[a-z]*/i,
  /\brm\s+-(?:[a-z]*r[a-z]*f|[a-z]*f[a-z]*r)[a-z]*\b/i,
  /\bmkfs\./i,
  /\bdd\s+if=\S*\s+of=\/dev\//i,
  /\bshutdown\b/i,
  /\breboot\b/i,
  /\bpoweroff\b/i,
];

const DEFAULT_BLOCKED_ROOTS = [".git", ".env", ".ssh", "/root", "/etc"];
const CONTROL_TOKENS = new Set(["&&", "||", "|", ";", "(", ")", "{", "}"]);
export const DEFAULT_WORKSPACE_ROOT = "/home/daytona/repo";

/** Default per-agent commands of the shell runner (SPEC §4.8.3 `daytona_shell`). */
export function defaultAgentCommand(agent: string): string {
  switch (agent) {
    case "scanner":
      return "find . -maxdepth 3 -type f -not -path './.git/*'";
    case "builder":
      return "npm test";
    case "security":
      return "grep -RInE 'password|secret|token|api[_-]?key' . --exclude-dir=.git";
    default:
      return `echo ${agent}`;
  }
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string" && v.trim() !== "").map((v) => v.trim()) : [];
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Minimal POSIX-style shell split: quotes and backslashes; control tokens separated. */
export function shellSplit(command: string): string[] {
  const tokens: string[] = [];
  let cur = "";
  let quote: '"' | "'" | null = null;
  let has = false;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === "\\" && quote === '"' && i + 1 < command.length) cur += command[++i];
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === "\\" && i + 1 < command.length) {
      cur += command[++i];
      has = true;
    } else if (/\s/.test(ch)) {
      if (has) tokens.push(cur);
      cur = "";
      has = false;
    } else if (";|&(){}".includes(ch)) {
      if (has) tokens.push(cur);
      const two = command.slice(i, i + 2);
      if (two === "&&" || two === "||") {
        tokens.push(two);
        i++;
      } else tokens.push(ch);
      cur = "";
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (has) tokens.push(cur);
  return tokens;
}

/** Paths a command references (SPEC rules), resolved against the workspace root; `..` is kept. */
export function referencedPaths(command: string, workspaceRoot: string): string[] {
  const out: string[] = [];
  for (const tok of shellSplit(command)) {
    if (CONTROL_TOKENS.has(tok) || tok.startsWith("-") || tok.includes("://")) continue;
    const isPath = tok === "." || tok === ".." || tok.startsWith("/") || tok.startsWith("./") || tok.startsWith("../") || tok.includes("/");
    if (isPath) out.push(resolvePath(tok, workspaceRoot));
  }
  return out;
}

function resolvePath(p: string, root: string): string {
  if (p.startsWith("/")) return p;
  const base = root.replace(/\/+$/, "");
  if (p === ".") return base;
  return `${base}/${p.replace(/^\.\//, "")}`;
}

function under(path: string, root: string): boolean {
  const r = root.replace(/\/+$/, "");
  return path === r || path.startsWith(`${r}/`);
}

/** Returns the denial, or null when the node may run. */
export function precheckNode(input: { metadata: Record<string, unknown>; nodeId: string; agent: string; runnerKind: string }): PolicyDenial | null {
  const { metadata, nodeId } = input;
  const nodePolicy = record(record(metadata.node_policy)[nodeId]);
  const required = new Set([
    ...strings(metadata.required_capabilities),
    ...strings(record(metadata.node_required_capabilities)[nodeId]),
    ...strings(nodePolicy.required_capabilities),
  ]);
  const override = record(record(metadata.runner_results)[nodeId]);
  const overrideCommand = typeof override.command === "string" && override.command.trim() !== "" ? override.command : null;
  const command = overrideCommand ?? (input.runnerKind === "daytona_shell" ? defaultAgentCommand(input.agent) : null);

  if (required.size > 0) {
    const available = new Set(strings(metadata.executor_capabilities ?? metadata.capabilities));
    const missing = [...required].filter((c) => !available.has(c)).sort();
    if (!available.has("*") && missing.length > 0) {
      return { code: "missing_capability", message: `Node '${nodeId}' missing required execution capability.`, command, details: { missing } };
    }
  }
  if (command === null) return null;

  const builtin = BUILTIN_BLOCKED.find((re) => re.test(command));
  if (builtin) return { code: "blocked_command", message: "Command blocked by execution policy.", command, details: { rule: builtin.source } };
  const lowered = command.toLowerCase();
  const custom = [...strings(nodePolicy.blocked_commands), ...strings(metadata.policy_blocked_commands)].find((t) => lowered.includes(t.toLowerCase()));
  if (custom) return { code: "blocked_command", message: "Command blocked by custom node policy.", command, details: { term: custom } };

  const root = typeof metadata.workspace_root === "string" && metadata.workspace_root.trim() ? metadata.workspace_root.trim() : DEFAULT_WORKSPACE_ROOT;
  const paths = referencedPaths(command, root);
  const blockedRoots = [...strings(nodePolicy.blocked_paths), ...strings(metadata.policy_blocked_paths), ...DEFAULT_BLOCKED_ROOTS].map((p) => resolvePath(p, root));
  for (const p of paths) {
    const hit = blockedRoots.find((b) => under(p, b));
    if (hit) return { code: "blocked_path", message: "Command references a blocked path.", command, details: { path: p, blocked_root: hit } };
  }
  const allow = [...strings(nodePolicy.allowed_paths), ...strings(metadata.policy_allowed_paths)].map((p) => resolvePath(p, root));
  if (allow.length > 0) {
    const outside = paths.find((p) => !allow.some((a) => under(p, a)));
    if (outside !== undefined) return { code: "path_outside_allowlist", message: "Command path is outside the node allowlist.", command, details: { path: outside, allowed: allow } };
  }
  return null;
}
