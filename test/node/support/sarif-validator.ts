/**
 * Microsoft's official SARIF validator, `@microsoft/sarif-multitool validate` (its self-contained
 * Linux binary ships in the npm package @microsoft/sarif-multitool-linux; it runs offline), as a
 * function for the node suite: errors and warnings of one log as `RULE: message`. The validator
 * exits 0 even when it reports errors, so its own SARIF output (`--output`) is what is read.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Log } from "sarif";
import { afterAll } from "vitest";

// @microsoft/sarif-multitool's main module is the path of its platform package's binary.
const MULTITOOL = createRequire(import.meta.url)("@microsoft/sarif-multitool") as string;
const dir = mkdtempSync(join(tmpdir(), "sarif-validate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// SARIF2006 (a note: "URIs should be reachable") sends HTTP GETs to every URI in the log; the
// suite stays offline, so it is the one rule disabled. Every error and warning rule runs.
const POLICY = join(dir, "validator-policy.xml");
writeFileSync(
  POLICY,
  `<?xml version="1.0" encoding="utf-8"?>
<Properties>
  <Properties Key="SARIF2006.UrisShouldBeReachable.Options">
    <Property Key="RuleEnabled" Value="Disabled" />
  </Properties>
</Properties>
`,
);

export interface Verdict {
  status: number | null;
  stdout: string;
  errors: string[];
  warnings: string[];
}

/** Writes `log` to a file and runs the validator on it; errors and warnings as `RULE: message`. */
export function validateSarif(name: string, log: unknown): Verdict {
  const file = join(dir, `${name}.sarif`);
  const out = join(dir, `${name}.validation.sarif`);
  writeFileSync(file, JSON.stringify(log, null, 2));
  const r = spawnSync(
    MULTITOOL,
    ["validate", file, "--output", out, "--config", POLICY, "--level", "Error;Warning", "--log", "ForceOverwrite"],
    {
      encoding: "utf8",
      timeout: 60_000,
      // No ICU needed, no telemetry, no first-run banner: the run depends on nothing outside the package.
      env: {
        ...process.env,
        DOTNET_SYSTEM_GLOBALIZATION_INVARIANT: "1",
        DOTNET_CLI_TELEMETRY_OPTOUT: "1",
        DOTNET_NOLOGO: "1",
      },
    },
  );
  const stdout = `${r.stdout}${r.stderr}`;
  // A validator that scanned nothing would report no errors: make that a failure.
  if (r.status !== 0 || !/\b1 files scanned\b/.test(stdout))
    throw new Error(`sarif-multitool did not validate ${file} (exit ${r.status}):\n${stdout}`);
  const report = JSON.parse(readFileSync(out, "utf8")) as Log;
  const results = report.runs.flatMap((run) => run.results ?? []);
  // The validator's results carry a message id and arguments (the first is the JSON path).
  const text = (level: string) =>
    results
      .filter((x) => (x.level ?? "warning") === level)
      .map((x) => `${x.ruleId} ${(x.message.arguments ?? []).join(" | ") || x.message.text}`);
  // Errors in the tool's own run (e.g. an unreadable file) are notifications, not results.
  const notices = report.runs
    .flatMap((run) => run.invocations ?? [])
    .flatMap((inv) => inv.toolExecutionNotifications ?? []);
  const failedRun = notices.filter((n) => n.level === "error").map((n) => `notification: ${n.message.text}`);
  return { status: r.status, stdout, errors: [...text("error"), ...failedRun], warnings: text("warning") };
}
