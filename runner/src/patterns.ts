/**
 * Code patterns: ast-grep (`@ast-grep/cli`, one binary for every language) with the rules kept
 * in runner/rules (JS/TS and Python; each rule has a firing and a silent fixture in
 * rule-tests/). `ast-grep scan --json` only parses files; nothing of the repository runs.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { execCapped } from "./exec";
import type { RunnerFinding } from "./protocol";

const SEVERITY: Record<string, string> = { error: "high", warning: "medium", info: "low", hint: "info" };
const CATEGORY: Record<string, string> = {
  "js-exec-user-input": "code-injection",
  "py-exec-user-input": "code-injection",
  "js-tls-verification-disabled": "insecure-transport",
  "py-yaml-unsafe-load": "deserialization",
};

/**
 * The ast-grep binary: the platform package's (an optional dependency of @ast-grep/cli, present
 * after `npm ci` even when install scripts are blocked), else @ast-grep/cli's own copy (which its
 * postinstall script puts there).
 */
export function astGrepBinary(): string {
  const require = createRequire(import.meta.url);
  const platform = `@ast-grep/cli-${process.platform}-${process.arch}${process.platform === "linux" ? "-gnu" : process.platform === "win32" ? "-msvc" : ""}`;
  for (const pkg of [platform, "@ast-grep/cli"]) {
    try {
      const bin = join(
        dirname(require.resolve(`${pkg}/package.json`)),
        process.platform === "win32" ? "ast-grep.exe" : "ast-grep",
      );
      if (existsSync(bin)) return bin;
    } catch {
      // not installed: try the next
    }
  }
  throw new Error("ast-grep binary not found (npm ci installs @ast-grep/cli and its platform package)");
}

interface SgMatch {
  ruleId: string;
  severity: string;
  message: string;
  note?: string | null;
  file: string;
  lines: string;
  range: { start: { line: number; column: number }; end: { line: number; column: number } };
}

export async function scanPatterns(root: string, rulesDir: string, timeoutMs: number): Promise<RunnerFinding[]> {
  const r = await execCapped(
    astGrepBinary(),
    ["scan", "--config", join(rulesDir, "sgconfig.yml"), "--json=compact", "."],
    {
      cwd: root,
      env: { PATH: "/usr/bin:/bin", HOME: root },
      timeoutMs,
      maxBytes: 16 * 1_048_576,
    },
  );
  if (r.timedOut || r.truncated) throw new Error(r.timedOut ? "ast-grep timed out" : "ast-grep output too large");
  let matches: SgMatch[];
  try {
    matches = JSON.parse(r.stdout) as SgMatch[];
  } catch {
    throw new Error(`ast-grep failed (exit ${r.code}): ${r.output.slice(0, 200)}`);
  }
  return matches.map((m) => ({
    rule_id: m.ruleId,
    tool: "ast-grep",
    severity: SEVERITY[m.severity] ?? "medium",
    category: CATEGORY[m.ruleId] ?? "code",
    title: m.message.slice(0, 300),
    detail: (m.note ?? "").trim().slice(0, 4000),
    file: m.file,
    line: m.range.start.line + 1,
    column: m.range.start.column + 1,
    end_line: m.range.end.line + 1,
    snippet: (m.lines.split("\n")[0] ?? "").slice(0, 300),
  }));
}
