import { describe, expect, it } from "vitest";
import type { ScanFinding } from "../../src/findings/finding";
import { DEFAULT_FINDING_THRESHOLDS, FindingThresholds, evaluateGate, topFindings } from "../../src/findings/gate";
import { scanA } from "./fixtures";

const f = (
  severity: string,
  file: string | null = "src/a.ts",
  line: number | null = 1,
  rule_id = `r-${severity}`,
): ScanFinding => ({
  rule_id,
  tool: "ast-grep",
  severity,
  category: "code",
  title: `${severity} thing`,
  file,
  line,
});
const many = (n: number, severity: string) => Array.from({ length: n }, (_, i) => f(severity, `src/f${i}.ts`, i + 1));

describe("evaluateGate (defaults: any critical fails, more than 5 high fails)", () => {
  it.each([
    ["no findings", [], "PASS"],
    ["5 high", many(5, "high"), "PASS"],
    ["6 high", many(6, "high"), "FAIL"],
    ["1 critical", [f("critical")], "FAIL"],
    ["100 medium, low and info", [...many(40, "medium"), ...many(40, "low"), ...many(20, "info")], "PASS"],
    ["an unknown severity (counts as info)", [f("blocker")], "PASS"],
  ] as const)("%s → %s", (_, findings, verdict) => {
    expect(evaluateGate(findings).verdict).toBe(verdict);
  });

  it("names the counts and the top findings (rule, file:line) in the reason", () => {
    const d = evaluateGate(scanA);
    expect(d.verdict).toBe("FAIL");
    expect(d.breaches).toEqual([{ severity: "critical", count: 2, max: 0 }]);
    expect(d.reason).toBe(
      "FAIL: 9 findings: 2 critical (max 0), 3 high (max 5), 2 medium, 1 low, 1 info; " +
        "top: critical secretlint/aws/AWSAccessKeyID at config/aws.ts:3; critical secretlint/aws/AWSSecretAccessKey at config/aws.ts:4",
    );
    expect(d.counts).toEqual({ critical: 2, high: 3, medium: 2, low: 1, info: 1 });
  });

  it("says PASS with the counts and no findings", () => {
    expect(evaluateGate([]).reason).toBe("PASS: no findings");
    expect(evaluateGate([f("low", "b.ts", 9)]).reason).toBe(
      "PASS: 1 finding: 0 critical (max 0), 0 high (max 5), 1 low; top: low ast-grep/r-low at b.ts:9",
    );
  });

  it("applies configured thresholds", () => {
    expect(evaluateGate([f("critical")], { max_critical: 1 }).verdict).toBe("PASS");
    expect(evaluateGate(many(6, "high"), { max_high: null }).verdict).toBe("PASS");
    const d = evaluateGate(many(3, "medium"), { max_medium: 2 });
    expect(d.verdict).toBe("FAIL");
    expect(d.breaches).toEqual([{ severity: "medium", count: 3, max: 2 }]);
    expect(d.reason).toMatch(
      /^FAIL: 3 findings: 0 critical \(max 0\), 0 high \(max 5\), 3 medium \(max 2\); top: medium/,
    );
    expect(evaluateGate([f("info")], { max_info: 0 }).verdict).toBe("FAIL");
  });

  it("with scope new, counts only new findings (and findings without a state)", () => {
    const old = { ...f("critical"), state: "unchanged" as const };
    expect(evaluateGate([old], { scope: "new" }).verdict).toBe("PASS");
    expect(evaluateGate([old], { scope: "new" }).reason).toBe("PASS: no new findings");
    expect(evaluateGate([{ ...old, state: "new" as const }], { scope: "new" }).verdict).toBe("FAIL");
    expect(evaluateGate([f("critical")], { scope: "new" }).verdict).toBe("FAIL");
  });

  it("rejects malformed thresholds", () => {
    expect(FindingThresholds.safeParse({ max_high: -1 }).success).toBe(false);
    expect(FindingThresholds.safeParse({ max_high: 1.5 }).success).toBe(false);
    expect(FindingThresholds.safeParse({ max_hihg: 3 }).success).toBe(false);
    expect(() => evaluateGate([], { scope: "old" as never })).toThrow();
    expect(DEFAULT_FINDING_THRESHOLDS).toEqual({
      max_critical: 0,
      max_high: 5,
      max_medium: null,
      max_low: null,
      max_info: null,
      scope: "all",
    });
  });
});

describe("topFindings", () => {
  it("orders by severity, then file, then line; findings without a file or line last", () => {
    const list = [
      f("high", "b.ts", 2),
      f("high", null, null),
      f("critical", "z.ts", 9),
      f("high", "b.ts", null),
      f("high", "a.ts", 50),
      f("high", "b.ts", 1),
    ];
    expect(topFindings(list, 10).map((x) => `${x.severity} ${x.file}:${x.line}`)).toEqual([
      "critical z.ts:9",
      "high a.ts:50",
      "high b.ts:1",
      "high b.ts:2",
      "high b.ts:null",
      "high null:null",
    ]);
    expect(topFindings(list, 2)).toHaveLength(2);
    expect(topFindings(list, 0)).toEqual([]);
  });

  it("does not reorder its input", () => {
    const list = [f("low"), f("critical")];
    topFindings(list, 1);
    expect(list[0]?.severity).toBe("low");
  });
});
