import { describe, expect, it } from "vitest";
import { FindingsSummary, diffBaseline, summarize } from "../../src/findings/baseline";
import { fingerprintFindings } from "../../src/findings/fingerprint";
import { scanA, scanB } from "./fixtures";

describe("diffBaseline", () => {
  it("after removing one planted problem and adding one: exactly one fixed and one new, the rest unchanged", async () => {
    const previous = await fingerprintFindings(scanA);
    const current = await fingerprintFindings(scanB);
    const d = diffBaseline(current, previous);
    expect(d.has_baseline).toBe(true);
    expect(d.fixed.map((f) => f.rule_id)).toEqual(["no-eval"]);
    const fresh = d.findings.filter((f) => f.state === "new");
    expect(fresh.map((f) => f.rule_id)).toEqual(["no-new-function"]);
    expect(d.findings.filter((f) => f.state === "unchanged")).toHaveLength(scanB.length - 1);
    // Order and fields of the current findings are kept.
    expect(d.findings.map((f) => f.fingerprint)).toEqual(current.map((f) => f.fingerprint));
  });

  it("marks everything new and nothing fixed without a previous build", async () => {
    const d = diffBaseline(await fingerprintFindings(scanA), null);
    expect(d.has_baseline).toBe(false);
    expect(d.fixed).toEqual([]);
    expect(d.findings.every((f) => f.state === "new")).toBe(true);
  });

  it("marks everything fixed when the current build has no findings", async () => {
    const d = diffBaseline([], await fingerprintFindings(scanA));
    expect(d.findings).toEqual([]);
    expect(d.fixed).toHaveLength(scanA.length);
  });

  it("lists a fixed fingerprint once even when the previous build stored it twice", () => {
    const d = diffBaseline([{ fingerprint: "b" }], [{ fingerprint: "a" }, { fingerprint: "a" }, { fingerprint: "b" }]);
    expect(d.fixed).toEqual([{ fingerprint: "a" }]);
    expect(d.findings).toEqual([{ fingerprint: "b", state: "unchanged" }]);
  });
});

describe("summarize", () => {
  it("counts by severity and state, and the fixed ones", async () => {
    const d = diffBaseline(await fingerprintFindings(scanB), await fingerprintFindings(scanA));
    const s = summarize(d.findings, d.fixed, "build-a");
    expect(s).toEqual({
      total: 9,
      by_severity: { critical: 2, high: 3, medium: 2, low: 1, info: 1 },
      new: 1,
      unchanged: 8,
      fixed: 1,
      baseline_build_id: "build-a",
    });
    expect(FindingsSummary.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it("counts unknown severities as info and stateless findings in neither state", () => {
    const s = summarize([{ severity: "BLOCKER" }, { severity: " High " }], 0);
    expect(s.by_severity).toEqual({ critical: 0, high: 1, medium: 0, low: 0, info: 1 });
    expect([s.new, s.unchanged, s.fixed, s.baseline_build_id]).toEqual([0, 0, 0, null]);
  });
});
