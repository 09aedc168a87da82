import { describe, expect, it } from "vitest";
import { diffBaseline } from "../../src/findings/baseline";
import { fingerprintFindings } from "../../src/findings/fingerprint";
import { FINGERPRINT_KEY, SRCROOT, artifactUri, sarifLevel, toSarif } from "../../src/findings/sarif";
import { scanA, scanB } from "./fixtures";

const build = {
  build_id: "b-2",
  repo_url: "https://deploy:s3cret@github.com/example-org/fixture-repo.git",
  commit: "9fceb02",
  branch: "main",
};

describe("toSarif", () => {
  it.each([
    ["critical", "error"],
    ["high", "error"],
    ["medium", "warning"],
    ["low", "note"],
    ["info", "note"],
    ["unknown", "note"],
  ])("maps severity %s to level %s", (severity, level) => {
    expect(sarifLevel(severity)).toBe(level);
  });

  it("makes one run per tool, in name order, each result pointing at its rule", async () => {
    const log = toSarif({ findings: await fingerprintFindings(scanA), build });
    expect(log.version).toBe("2.1.0");
    expect(log.runs.map((r) => r.tool.driver.name)).toEqual([
      "ast-grep",
      "builder",
      "clarity",
      "dependencies",
      "inventory",
      "secretlint",
    ]);
    for (const run of log.runs) {
      const rules = run.tool.driver.rules ?? [];
      expect(rules.map((r) => r.id)).toEqual([...rules.map((r) => r.id)].sort());
      for (const r of run.results ?? []) expect(rules[r.ruleIndex ?? -1]?.id).toBe(r.ruleId);
    }
    expect(log.runs.flatMap((r) => r.results ?? [])).toHaveLength(scanA.length);
  });

  it("describes rules by their first finding at their most severe level", () => {
    const log = toSarif({
      findings: [
        { rule_id: "r", tool: "t", severity: "low", category: "c", title: "Thing", detail: "Fix it" },
        { rule_id: "r", tool: "t", severity: "high", category: "c", title: "Other" },
      ],
      build,
      rules: { "t/r": { helpUri: "https://example.com/rules/r" } },
    });
    const rule = log.runs[0]?.tool.driver.rules?.[0];
    expect(rule).toMatchObject({
      id: "r",
      shortDescription: { text: "Thing." },
      help: { text: "Fix it." },
      helpUri: "https://example.com/rules/r",
      defaultConfiguration: { level: "error" },
      properties: { tags: ["c"], "security-severity": "8.0" },
    });
  });

  it("gives a result its location under SRCROOT, region, snippet, fingerprint and state", async () => {
    const d = diffBaseline(await fingerprintFindings(scanB), await fingerprintFindings(scanA));
    const log = toSarif({ findings: d.findings, fixed: d.fixed, build });
    const secret = log.runs.find((r) => r.tool.driver.name === "secretlint")?.results?.[0];
    expect(secret).toMatchObject({
      ruleId: "aws/AWSAccessKeyID",
      level: "error",
      message: { text: "found AWS Access Key ID." },
      baselineState: "unchanged",
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: "config/aws.ts", uriBaseId: SRCROOT },
            region: { startLine: 6, startColumn: 22, endLine: 6, snippet: { text: scanA[0]?.snippet } },
          },
        },
      ],
    });
    expect(secret?.partialFingerprints?.[FINGERPRINT_KEY]).toBe(d.findings[0]?.fingerprint);
    const astGrep = log.runs.find((r) => r.tool.driver.name === "ast-grep")?.results ?? [];
    expect(astGrep.map((r) => [r.ruleId, r.baselineState])).toEqual([
      ["no-inner-html", "unchanged"],
      ["no-inner-html", "unchanged"],
      ["no-new-function", "new"],
      ["no-eval", "absent"],
    ]);
  });

  it("leaves out what it does not know: region without a line, location without a file, state without a baseline", () => {
    const log = toSarif({
      findings: [
        {
          rule_id: "x",
          tool: "t",
          severity: "high",
          category: "c",
          title: "T",
          file: "a b/c.ts",
          line: 0,
          end_line: 0,
          column: 0,
        },
        { tool: "t", severity: "low", category: "c", title: "U" },
      ],
      build: { build_id: "b" },
    });
    const [a, b] = log.runs[0]?.results ?? [];
    expect(a?.locations).toEqual([
      { physicalLocation: { artifactLocation: { uri: "a%20b/c.ts", uriBaseId: SRCROOT } } },
    ]);
    expect(a?.baselineState).toBeUndefined();
    expect(a?.partialFingerprints).toBeUndefined();
    expect(b?.locations).toBeUndefined();
    expect(b?.ruleId).toBe("category/c");
    expect(log.runs[0]?.versionControlProvenance).toBeUndefined();
  });

  it("records the repository without credentials, the commit and branch, and the build", () => {
    const run = toSarif({ findings: [], build })?.runs[0];
    expect(run?.tool.driver.name).toBe("clarity");
    expect(run?.results).toEqual([]);
    expect(run?.versionControlProvenance).toEqual([
      {
        repositoryUri: "https://github.com/example-org/fixture-repo.git",
        revisionId: "9fceb02",
        branch: "main",
        mappedTo: { uriBaseId: SRCROOT },
      },
    ]);
    expect(run?.automationDetails).toEqual({ id: "clarity/clarity/b-2" });
    expect(JSON.stringify(run)).not.toContain("s3cret");
  });

  it("never sets an end line before the start line", () => {
    const r = toSarif({
      findings: [{ rule_id: "x", severity: "high", category: "c", title: "T", file: "a.ts", line: 9, end_line: 3 }],
      build,
    })?.runs[0]?.results?.[0];
    expect(r?.locations?.[0]?.physicalLocation?.region).toEqual({ startLine: 9 });
  });

  it.each([
    ["./src/a.ts", "src/a.ts"],
    ["src\\win\\a.ts", "src/win/a.ts"],
    ["/abs/x.ts", "abs/x.ts"],
    ["node_modules/@scope/p/i.js", "node_modules/@scope/p/i.js"],
    ["a:b/c#d?.ts", "a%3Ab/c%23d%3F.ts"],
    ["ünï.ts", "%C3%BCn%C3%AF.ts"],
  ])("artifactUri(%s) = %s", (file, uri) => {
    expect(artifactUri(file)).toBe(uri);
  });
});
