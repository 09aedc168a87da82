/**
 * Secrets: secretlint with @secretlint/secretlint-rule-preset-recommend (AWS, GCP, GitHub,
 * Slack, npm, private keys, basic-auth URLs …; AWS access key ids on). Values are masked:
 * the snippet is the finding's line with the secret's characters replaced by `*`.
 */
import { lintSource } from "@secretlint/core";
import { creator as preset } from "@secretlint/secretlint-rule-preset-recommend";
import { extname } from "node:path";
import { listFiles, readText } from "./files";
import type { RunnerFinding } from "./protocol";

const CONFIG = {
  rules: [
    {
      id: "@secretlint/secretlint-rule-preset-recommend",
      rule: preset,
      rules: [{ id: "@secretlint/secretlint-rule-aws", options: { enableIDScanRule: true } }],
    },
  ],
};
const CRITICAL = new Set(["privatekey", "aws", "gcp", "azure"]);

/** `text` with [start, end) replaced by `*`, then the line of `start`, capped. */
export function maskedLine(text: string, start: number, end: number): string {
  const masked = text.slice(0, start) + text.slice(start, end).replace(/[^\n]/g, "*") + text.slice(end);
  const from = masked.lastIndexOf("\n", start - 1) + 1;
  const to = masked.indexOf("\n", start);
  const line = masked.slice(from, to === -1 ? undefined : to);
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

export async function scanSecrets(root: string): Promise<RunnerFinding[]> {
  const out: RunnerFinding[] = [];
  for (const file of await listFiles(root)) {
    const content = await readText(root, file).catch(() => null);
    if (content === null || content.trim() === "") continue;
    const result = await lintSource({
      source: { filePath: `/${file}`, content, ext: extname(file), contentType: "text" },
      options: { config: CONFIG as never, maskSecrets: true },
    });
    for (const m of result.messages) {
      const short = m.ruleId.replace("@secretlint/secretlint-rule-", "");
      const [start, end] = m.range;
      out.push({
        rule_id: `${short}/${m.messageId}`,
        tool: "secretlint",
        severity: CRITICAL.has(short) ? "critical" : "high",
        category: "secret",
        title: m.message.replace(/:\s*\*+.*$/s, "").slice(0, 300),
        file,
        line: m.loc.start.line,
        column: m.loc.start.column + 1,
        end_line: m.loc.end.line,
        snippet: maskedLine(content, start, end),
        detail:
          "Remove it from the repository and its history, rotate the credential, and load it from a secret store.",
      });
    }
  }
  return out;
}
