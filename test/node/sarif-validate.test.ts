/**
 * The SARIF export (src/findings/sarif.ts, issue 16) against Microsoft's official validator
 * (support/sarif-validator.ts). Fails on any validator error; a broken log proves the check can
 * fail. A real scan's export is validated in runner.e2e.test.ts.
 */
import { describe, expect, it } from "vitest";
import { diffBaseline } from "../../src/findings/baseline";
import { fingerprintFindings } from "../../src/findings/fingerprint";
import { FINGERPRINT_KEY, toSarif } from "../../src/findings/sarif";
import { scanA, scanB } from "../findings/fixtures";
import { validateSarif as validate } from "./support/sarif-validator";

const build = {
  build_id: "0f8fad5b-d9cb-469f-a165-70867728950e",
  repo_url: "https://github.com/example-org/fixture-repo",
  commit: "9fceb02d0ae598e95dc970b74767f19372d61af8",
  branch: "main",
};
const tools = {
  secretlint: { version: "13.0.6" },
  "ast-grep": { version: "0.51.1" },
  dependencies: { informationUri: "https://clarity.example.com/docs/tools/dependencies" },
};
const product = { name: "clarity", version: "0.1.0", informationUri: "https://clarity.example.com/docs" };

describe("SARIF export validated by @microsoft/sarif-multitool", () => {
  it("a first scan (no baseline) has no validator errors", async () => {
    const log = toSarif({ findings: await fingerprintFindings(scanA), build, tools, product });
    const v = validate("first-scan", log);
    expect(v.status, v.stdout).toBe(0);
    expect(v.errors, v.stdout).toEqual([]);
    // With every tool's version and page known there is not even a warning.
    expect(v.warnings, v.stdout).toEqual([]);
  });

  it("a rescan with baseline states and an absent (fixed) result has no validator errors", async () => {
    const d = diffBaseline(await fingerprintFindings(scanB), await fingerprintFindings(scanA));
    const log = toSarif({
      findings: d.findings,
      fixed: d.fixed,
      build: { ...build, baseline_build_id: "6ba7b810-9dad-11d1-80b4-00c04fd430c8" },
      tools,
      product,
    });
    const results = log.runs.flatMap((r) => r.results ?? []);
    expect(results.filter((r) => r.baselineState === "absent").map((r) => r.ruleId)).toEqual(["no-eval"]);
    expect(results.filter((r) => r.baselineState === "new").map((r) => r.ruleId)).toEqual(["no-new-function"]);
    expect(results.every((r) => r.partialFingerprints?.[FINGERPRINT_KEY]?.length === 32)).toBe(true);
    const v = validate("rescan", log);
    expect(v.status, v.stdout).toBe(0);
    expect(v.errors, v.stdout).toEqual([]);
    expect(v.warnings, v.stdout).toEqual([]);
  });

  // Without versions the validator warns (SARIF2005), which is allowed; errors are not.
  it("a build without findings, and one without repository or tool details, have no validator errors", () => {
    for (const [name, log] of [
      ["empty", toSarif({ findings: [], build })],
      [
        "bare",
        toSarif({
          findings: scanA.map((f) => ({ ...f, tool: null })),
          build: { build_id: "b-1", repo_url: "not a url" },
        }),
      ],
    ] as const) {
      const v = validate(name, log);
      expect(v.errors, `${name}\n${v.stdout}`).toEqual([]);
    }
  });

  it("reports errors for a broken log (the check can fail)", async () => {
    const log = toSarif({ findings: await fingerprintFindings(scanA), build, tools, product }) as unknown as {
      runs: { tool: { driver: Record<string, unknown> }; results: Record<string, unknown>[] }[];
    };
    const run = log.runs[0];
    if (!run) throw new Error("no run");
    delete run.tool.driver.name;
    run.results.push({ ruleId: "x", level: "fatal", locations: [{ physicalLocation: { region: { startLine: 0 } } }] });
    const v = validate("broken", log);
    expect(v.errors).toEqual(
      expect.arrayContaining([
        "JSON1002 runs[0].tool.driver | name", // required property missing
        expect.stringMatching(/^JSON1002 runs\[0\]\.results\[\d+\] \| message$/),
        expect.stringMatching(/^JSON1019 runs\[0\]\.results\[\d+\]\.level \| "fatal"/), // not in the enum
        expect.stringMatching(/^JSON1008 .*region\.startLine \| 0 \| 1$/), // below the minimum
      ]),
    );
    expect(v.stdout).toMatch(/: error JSON1002: runs\[0\]\.tool\.driver: The required property 'name' is missing/);
  });
});
