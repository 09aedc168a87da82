/**
 * What each agent role does on a task run's workspace. Every role returns a RoleResult; none
 * runs a command taken from the dispatch (DESIGN §5: the runner's commands are its own).
 *   scanner  — inventory (languages, files, lines) and the dependency inventory with checks
 *   security — secretlint (secrets, masked) and ast-grep rules (code patterns)
 *   builder  — the repository's own tests (npm test / pytest / go test) in the bubblewrap sandbox
 *   planner  — a remediation plan from the findings of earlier nodes
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunnerConfig } from "./config";
import { scanDependencies } from "./dependencies";
import { listFiles } from "./files";
import { inventory } from "./inventory";
import { scanPatterns } from "./patterns";
import type { Dispatch, RoleResult, RunnerFinding } from "./protocol";
import { bwrapAvailable, runSandboxed } from "./sandbox";
import { scanSecrets } from "./secrets";

export interface RoleContext {
  cfg: RunnerConfig;
  rulesDir: string;
  /** The checked-out repository, or null for roles that need none (planner). */
  repo: string | null;
  /** The directory the sandbox mounts as /work, its only writable path (the clone). */
  workspace: string | null;
  limitMs: number;
}

export async function scanner(ctx: RoleContext): Promise<RoleResult> {
  const root = ctx.repo!;
  const inv = await inventory(root);
  const deps = await scanDependencies(root, await listFiles(root));
  const depText =
    Object.entries(deps.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ") || "none";
  return {
    status: "completed",
    summary: `${inv.finding.title}; dependencies: ${depText}; ${deps.findings.length} dependency findings`,
    findings: [inv.finding, ...deps.findings],
    logs_excerpt: "",
    exit_code: 0,
  };
}

export async function security(ctx: RoleContext): Promise<RoleResult> {
  const root = ctx.repo!;
  const secrets = await scanSecrets(root);
  const patterns = await scanPatterns(root, ctx.rulesDir, Math.max(1000, ctx.limitMs - 1000));
  const findings = [...secrets, ...patterns];
  return {
    status: "completed",
    summary: `${secrets.length} secrets (secretlint), ${patterns.length} code-pattern findings (ast-grep)`,
    findings,
    logs_excerpt: "",
    exit_code: 0,
  };
}

/** The test command of a repository, detected from its files (never from the dispatch). */
export function detectTestCommand(root: string): string[] | null {
  const pkg = join(root, "package.json");
  if (existsSync(pkg)) {
    try {
      const scripts = (JSON.parse(readFileSync(pkg, "utf8")) as { scripts?: Record<string, unknown> }).scripts ?? {};
      if (typeof scripts.test === "string") return ["npm", "test", "--silent"];
    } catch {
      // unreadable package.json: fall through to the others
    }
  }
  if (["pyproject.toml", "requirements.txt", "setup.py", "pytest.ini"].some((f) => existsSync(join(root, f))))
    return ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"];
  if (existsSync(join(root, "go.mod"))) return ["go", "test", "./..."];
  return null;
}

export async function builder(ctx: RoleContext): Promise<RoleResult> {
  const root = ctx.repo!;
  const cmd = detectTestCommand(root);
  if (!cmd) {
    return {
      status: "skipped",
      summary: "No test command found (package.json scripts.test, pytest, go test)",
      findings: [
        {
          rule_id: "no-test-command",
          tool: "builder",
          severity: "medium",
          category: "reliability",
          title: "No runnable test command",
        },
      ],
      logs_excerpt: "",
      exit_code: 0,
    };
  }
  const line = cmd.join(" ");
  if (!(await bwrapAvailable(ctx.cfg.RUNNER_BWRAP))) {
    return {
      status: "skipped",
      summary: `Tests not run: no sandbox (bubblewrap not found at ${ctx.cfg.RUNNER_BWRAP})`,
      error: "sandbox_unavailable",
      findings: [],
      logs_excerpt: "",
      exit_code: null,
    };
  }
  const timeoutMs = Math.min(ctx.limitMs, ctx.cfg.RUNNER_TEST_TIMEOUT_SECONDS * 1000);
  const r = await runSandboxed(ctx.cfg.RUNNER_BWRAP, ctx.workspace!, cmd, {
    timeoutMs,
    maxBytes: ctx.cfg.RUNNER_OUTPUT_CAP_BYTES,
  });
  const ok = r.code === 0 && !r.timedOut && !r.truncated;
  const tail = r.output.slice(-4000);
  const why = r.timedOut
    ? `timed out after ${Math.round(timeoutMs / 1000)} s`
    : r.truncated
      ? `output above ${ctx.cfg.RUNNER_OUTPUT_CAP_BYTES} bytes`
      : `exit code ${r.code}`;
  const findings: RunnerFinding[] = ok
    ? []
    : [
        {
          rule_id: r.timedOut ? "test-suite-timeout" : "test-suite-fails",
          tool: "builder",
          severity: "high",
          category: "reliability",
          title: `Test suite fails (${line}): ${why}`,
          detail: r.output.slice(-1500),
        },
      ];
  return {
    status: ok ? "completed" : "failed",
    summary: ok ? `TEST_GATE: tests passed (${line})` : `TEST_GATE: tests failed (${line}): ${why}`,
    error: ok ? null : `tests_failed: ${why}`,
    findings,
    logs_excerpt: tail,
    exit_code: r.code,
  };
}

const RANK: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
const ADVICE: Record<string, string> = {
  secret: "Remove it from the repository and its history, rotate the credential, and load it from a secret store.",
  "code-injection": "Never evaluate request data; pass arguments as a list to a fixed program.",
  "supply-chain": "Pin registry releases, commit the lockfile and review install scripts.",
  reliability: "Fix the failing tests and run them in CI.",
};

export function planner(prior: Dispatch["prior_findings"]): RoleResult {
  const actionable = prior
    .filter((f) => (RANK[f.severity] ?? 0) >= 1)
    .sort((a, b) => (RANK[b.severity] ?? 0) - (RANK[a.severity] ?? 0));
  if (actionable.length === 0)
    return {
      status: "completed",
      summary: "No actionable findings: nothing to remediate.",
      findings: [],
      logs_excerpt: "",
      exit_code: 0,
    };
  const groups = new Map<string, { severity: string; title: string; category: string; files: string[] }>();
  for (const f of actionable) {
    const key = `${f.severity}|${f.title}`;
    const g = groups.get(key) ?? { severity: f.severity, title: f.title, category: f.category, files: [] };
    if (f.file) g.files.push(f.file);
    groups.set(key, g);
  }
  const steps = [...groups.values()].map(
    (g, i) =>
      `${i + 1}. [${g.severity}] ${g.title}${g.files.length ? ` (${[...new Set(g.files)].slice(0, 3).join(", ")})` : ""}: ${ADVICE[g.category] ?? "Review and fix."}`,
  );
  return {
    status: "completed",
    summary: `Remediation plan:\n${steps.join("\n")}`,
    findings: [],
    logs_excerpt: "",
    exit_code: 0,
  };
}
