/**
 * Fixture findings for the findings core (issue 16), shaped as the runner reports them
 * (runner/src: secretlint, ast-grep, dependencies, builder, inventory). `scanA` is a first scan;
 * `scanB` is the same repository after an edit that shifts config/aws.ts by three lines, removes
 * the planted `eval` and plants a `new Function`. Shared by the workers and node suites.
 */
import type { ScanFinding } from "../../src/findings/finding";

export const AWS_KEY_LINE = 'const accessKeyId = "****************";';

export const scanA: ScanFinding[] = [
  {
    rule_id: "aws/AWSAccessKeyID",
    tool: "secretlint",
    severity: "critical",
    category: "secret",
    title: "found AWS Access Key ID",
    file: "config/aws.ts",
    line: 3,
    column: 22,
    end_line: 3,
    snippet: AWS_KEY_LINE,
    detail: "Remove it from the repository and its history, rotate the credential, and load it from a secret store.",
  },
  {
    rule_id: "aws/AWSSecretAccessKey",
    tool: "secretlint",
    severity: "critical",
    category: "secret",
    title: "found AWS Secret Access Key",
    file: "config/aws.ts",
    line: 4,
    column: 26,
    end_line: 4,
    snippet: 'const secretAccessKey = "****************************************";',
  },
  {
    rule_id: "no-eval",
    tool: "ast-grep",
    severity: "high",
    category: "injection",
    title: "eval() runs arbitrary code",
    file: "src/handlers/run.js",
    line: 12,
    column: 5,
    end_line: 12,
    snippet: "  eval(req.body.code);",
    detail: "Parse the input instead.",
  },
  // Two identical lines in one file: one rule, one snippet, two findings.
  {
    rule_id: "no-inner-html",
    tool: "ast-grep",
    severity: "medium",
    category: "xss",
    title: "innerHTML with dynamic content",
    file: "src/ui/render.js",
    line: 20,
    column: 3,
    end_line: 20,
    snippet: "el.innerHTML = html;",
  },
  {
    rule_id: "no-inner-html",
    tool: "ast-grep",
    severity: "medium",
    category: "xss",
    title: "innerHTML with dynamic content",
    file: "src/ui/render.js",
    line: 41,
    column: 3,
    end_line: 41,
    snippet: "el.innerHTML = html;",
  },
  {
    rule_id: "vulnerable-dependency",
    tool: "dependencies",
    severity: "high",
    category: "supply-chain",
    title: "lodash 4.17.20 has a known prototype pollution",
    file: "package.json",
    line: 14,
    snippet: '"lodash": "4.17.20",',
  },
  // No file, no line: a whole-repository finding.
  {
    rule_id: "test-suite-fails",
    tool: "builder",
    severity: "high",
    category: "reliability",
    title: "Test suite fails (3 failed): exit 1",
  },
  {
    rule_id: "inventory",
    tool: "inventory",
    severity: "info",
    category: "inventory",
    title: "12 source files, 2 languages",
  },
  // No tool and no rule id (an older runner): grouped under the product and its category.
  { severity: "low", category: "style", title: "Trailing whitespace", file: "README with spaces.md", line: 2 },
];

/** The next scan: aws.ts shifted by 3 lines, the eval removed, a `new Function` planted. */
export const scanB: ScanFinding[] = [
  ...scanA
    .filter((f) => f.rule_id !== "no-eval")
    .map((f) => (f.file === "config/aws.ts" ? { ...f, line: (f.line ?? 0) + 3, end_line: (f.end_line ?? 0) + 3 } : f)),
  {
    rule_id: "no-new-function",
    tool: "ast-grep",
    severity: "high",
    category: "injection",
    title: "new Function() runs arbitrary code",
    file: "src/handlers/run.js",
    line: 30,
    column: 10,
    end_line: 30,
    snippet: "  const fn = new Function(src);",
  },
];
