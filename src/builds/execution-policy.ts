/**
 * Execution-policy pre-check (SPEC §4.8.3), run before any runtime adapter: required
 * capabilities, built-in and custom blocked commands, blocked roots and allow-lists. Pure: a
 * function of the build's run settings, the node and the runner kind.
 */
import { type NodePolicy, type RunSettings, forNode } from "./engine/run-settings";

const NO_NODE_POLICY: NodePolicy = {
  required_capabilities: [],
  blocked_commands: [],
  blocked_paths: [],
  allowed_paths: [],
};

export interface PolicyDenial {
  code: "missing_capability" | "blocked_command" | "blocked_path" | "path_outside_allowlist";
  message: string;
  command: string | null;
  details: Record<string, unknown>;
}

/**
 * A built-in blocked-command rule. Every test runs in time linear in the command's length (issue
 * 15 item 7): commands can be large (a 256 KiB build metadata value), and a pattern that
 * backtracks quadratically — the old `rm -(?:[a-z]*r[a-z]*f|…)` took minutes on `rm -rrrr…` — is a
 * denial of service on the tick. Each regex below has no nested or adjacent overlapping
 * quantifiers; `rm`'s "flags contain both r and f" is checked in code instead of by alternation.
 */
interface BlockedRule {
  rule: string;
  test(command: string): boolean;
}

const re = (rule: string, pattern: RegExp): BlockedRule => ({ rule, test: (c) => pattern.test(c) });

const BUILTIN_BLOCKED: ReadonlyArray<BlockedRule> = [
  re("git reset --hard", /\bgit\s+reset\s+--hard\b/i),
  re("git clean -f", /\bgit\s+clean\s+-[a-z]*f/i),
  {
    rule: "rm -rf",
    test(command) {
      // One linear pass over every `rm -<letters>` cluster (a word boundary after the letters,
      // as the SPEC's regex had); blocked when a cluster holds both r and f in any order.
      for (const m of command.matchAll(/\brm\s+-([a-z]+)\b/gi)) {
        const flags = m[1]!.toLowerCase();
        if (flags.includes("r") && flags.includes("f")) return true;
      }
      return false;
    },
  },
  re("mkfs.", /\bmkfs\./i),
  re("dd of=/dev/", /\bdd\s+if=\S*\s+of=\/dev\//i),
  re("shutdown", /\bshutdown\b/i),
  re("reboot", /\breboot\b/i),
  re("poweroff", /\bpoweroff\b/i),
];

/** The built-in rule a command trips, or null (linear time). */
export function builtinBlockedRule(command: string): string | null {
  return BUILTIN_BLOCKED.find((r) => r.test(command))?.rule ?? null;
}

const DEFAULT_BLOCKED_ROOTS = [".git", ".env", ".ssh", "/root", "/etc"];
const CONTROL_TOKENS = new Set(["&&", "||", "|", ";", "(", ")", "{", "}"]);
export const DEFAULT_WORKSPACE_ROOT = "/home/daytona/repo";

/**
 * The command the runner service runs for a node of `agent` (runner-side configuration, never
 * build input; DESIGN §5): what the pre-check inspects for runs on the http adapter. The scanner,
 * security and planner roles run in-process analysers (no shell); the builder runs the
 * repository's own tests, detected by the runner (shown as the npm form). Simulated runs execute
 * nothing, so they have no planned command.
 */
export function runnerCommand(agent: string): string | null {
  switch (agent) {
    case "scanner":
      return "inventory";
    case "security":
      return "secretlint && ast-grep scan && dependency-audit";
    case "builder":
      return "npm test";
    default:
      return null;
  }
}

/** Metadata keys that would name a command to run: refused at build creation (issue 15 item 3). */
const COMMAND_KEYS = ["command", "commands", "cmd", "script", "shell"];

/**
 * Where build metadata names a command (`command`, `commands`, … at the top level, in a
 * `runner_results.<node>` override or a `node_policy.<node>`), as a JSON path, else null. A build
 * never carries a command to run: the runner's commands are its own configuration.
 */
export function commandInMetadata(metadata: Record<string, unknown>): string | null {
  const hit = (obj: Record<string, unknown>, at: string): string | null => {
    const key = COMMAND_KEYS.find((k) => obj[k] !== undefined && obj[k] !== null);
    return key === undefined ? null : `${at}${key}`;
  };
  const top = hit(metadata, "metadata.");
  if (top) return top;
  for (const group of ["runner_results", "node_policy"]) {
    for (const [nodeId, value] of Object.entries(record(metadata[group]))) {
      const found = hit(record(value), `metadata.${group}.${nodeId}.`);
      if (found) return found;
    }
  }
  return null;
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
    const isPath =
      tok === "." ||
      tok === ".." ||
      tok.startsWith("/") ||
      tok.startsWith("./") ||
      tok.startsWith("../") ||
      tok.includes("/");
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

/**
 * Returns the denial, or null when the node may run. `command` is the runner-side command the
 * node would run (`runnerCommand`), null when it runs none; every step is linear in its length.
 */
export function precheckNode(input: {
  settings: RunSettings;
  nodeId: string;
  command: string | null;
}): PolicyDenial | null {
  const { settings: p, nodeId } = input;
  const nodePolicy = forNode(p.node_policy, nodeId) ?? NO_NODE_POLICY;
  const required = new Set([
    ...p.required_capabilities,
    ...(forNode(p.node_required_capabilities, nodeId) ?? []),
    ...nodePolicy.required_capabilities,
  ]);
  const command = input.command !== null && input.command.trim() !== "" ? input.command : null;

  if (required.size > 0) {
    const available = new Set(p.executor_capabilities);
    const missing = [...required].filter((c) => !available.has(c)).sort();
    if (!available.has("*") && missing.length > 0) {
      return {
        code: "missing_capability",
        message: `Node '${nodeId}' missing required execution capability.`,
        command,
        details: { missing },
      };
    }
  }
  if (command === null) return null;

  const builtin = builtinBlockedRule(command);
  if (builtin)
    return {
      code: "blocked_command",
      message: "Command blocked by execution policy.",
      command,
      details: { rule: builtin },
    };
  const lowered = command.toLowerCase();
  const custom = [...nodePolicy.blocked_commands, ...p.policy_blocked_commands].find((t) =>
    lowered.includes(t.toLowerCase()),
  );
  if (custom)
    return {
      code: "blocked_command",
      message: "Command blocked by custom node policy.",
      command,
      details: { term: custom },
    };

  const root = p.workspace_root ?? DEFAULT_WORKSPACE_ROOT;
  const paths = referencedPaths(command, root);
  const blockedRoots = [...nodePolicy.blocked_paths, ...p.policy_blocked_paths, ...DEFAULT_BLOCKED_ROOTS].map((p) =>
    resolvePath(p, root),
  );
  for (const p of paths) {
    const hit = blockedRoots.find((b) => under(p, b));
    if (hit)
      return {
        code: "blocked_path",
        message: "Command references a blocked path.",
        command,
        details: { path: p, blocked_root: hit },
      };
  }
  const allow = [...nodePolicy.allowed_paths, ...p.policy_allowed_paths].map((p) => resolvePath(p, root));
  if (allow.length > 0) {
    const outside = paths.find((p) => !allow.some((a) => under(p, a)));
    if (outside !== undefined)
      return {
        code: "path_outside_allowlist",
        message: "Command path is outside the node allowlist.",
        command,
        details: { path: outside, allowed: allow },
      };
  }
  return null;
}
