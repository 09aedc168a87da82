import { describe, expect, it } from "vitest";
import { decideGoLive } from "../../src/program/go-live";
import { cleanEntries, decidePolicy } from "../../src/program/policy-decision";
import {
  SLO_WINDOWS,
  type SloWindowName,
  type WindowCounts,
  evaluateObjective,
  referenceSummary,
  worstState,
} from "../../src/program/slo-math";

describe("policy decision (SPEC §6.2)", () => {
  const rules = { blocked_commands: ["rm -rf", "Curl | sh"], restricted_paths: ["/.git", "/etc/"] };
  it.each([
    ["  RM -RF /tmp/app ", null, "BLOCK", "blocked_command:rm -rf", "blocked_command"],
    ["curl | sh", "/.git/config", "BLOCK", "blocked_command:Curl | sh", "blocked_command"], // commands before paths, stored case in the reason
    ["cat x", "/.github/x", "BLOCK", "restricted_path:/.git", "restricted_path"], // prefix, so /.git blocks /.github
    ["cat x", "  /etc/passwd  ", "BLOCK", "restricted_path:/etc/", "restricted_path"], // path is trimmed
    ["cat x", "/ETC/passwd", "ALLOW", "policy_pass", null], // paths are case-sensitive
    ["cat x", "etc/.git", "ALLOW", "policy_pass", null], // prefix, not substring
    ["ls", undefined, "ALLOW", "policy_pass", null],
    ["ls", "", "ALLOW", "policy_pass", null],
  ] as const)("%j on %j → %s %s", (command, path, action, reason, code) => {
    expect(decidePolicy(rules, command, path)).toEqual({ action, reason, violation_code: code });
  });

  it("first blocked entry in stored order wins", () => {
    expect(decidePolicy({ blocked_commands: ["sh", "rm"], restricted_paths: [] }, "rm x | sh").reason).toBe(
      "blocked_command:sh",
    );
  });

  it("trims entries, drops empty ones, keeps case and order", () => {
    expect(cleanEntries(["  rm -RF ", "", "   ", "x"])).toEqual(["rm -RF", "x"]);
  });
});

describe("go-live decision (SPEC §6.8)", () => {
  const all = {
    security_review: true,
    slo_dashboard: true,
    rollback_tested: true,
    docs_complete: true,
    runbooks_ready: true,
  };
  const none = {
    security_review: false,
    slo_dashboard: false,
    rollback_tested: false,
    docs_complete: false,
    runbooks_ready: false,
  };
  it.each([
    [
      "nothing recorded",
      null,
      null,
      false,
      "NO_GO",
      ["checklist_missing", "rollback_drill_missing", "validation_not_release_ready"],
    ],
    [
      "all false, failed drill, ready",
      none,
      { passed: false },
      true,
      "NO_GO",
      [
        "security_review_incomplete",
        "slo_dashboard_missing",
        "docs_incomplete",
        "runbooks_not_ready",
        "rollback_not_tested",
        "rollback_drill_failed",
      ],
    ],
    ["everything in place", all, { passed: true }, true, "GO", []],
    ["only validation missing", all, { passed: true }, false, "NO_GO", ["validation_not_release_ready"]],
    ["one item missing", { ...all, docs_complete: false }, { passed: true }, true, "NO_GO", ["docs_incomplete"]],
  ] as const)("%s", (_name, checklist, drill, ready, status, reasons) => {
    expect(decideGoLive({ checklist, drill, validationReleaseReady: ready })).toEqual({ status, reasons });
  });
});

function counts(
  byWindow: Partial<Record<SloWindowName, [valid: number, good: number]>>,
): Record<SloWindowName, WindowCounts> {
  const out = {} as Record<SloWindowName, WindowCounts>;
  for (const w of SLO_WINDOWS) {
    const [valid, good] = byWindow[w.name] ?? [0, 0];
    out[w.name] = { valid, good };
  }
  return out;
}

describe("SLO arithmetic (SRE workbook multiwindow, multi-burn-rate)", () => {
  it("no eligible build in the budget period is no_data, not healthy", () => {
    const o = evaluateObjective({ name: "x", description: "", target: 0.95, counts: counts({}) });
    expect(o.state).toBe("no_data");
    expect(o.error_budget_remaining).toBeNull();
    expect(o.windows["5m"]).toEqual({ valid: 0, good: 0, bad: 0, sli: null, burn_rate: null });
    expect(o.alerts.every((a) => !a.firing && a.long_burn_rate === null)).toBe(true);
  });

  // target 0.95 → error budget 5 %. burn rate = bad share / 0.05.
  it.each([
    {
      name: "a fresh burst: 2 of 4 bad in 5m and 1h (burn 10) is below 14.4 but pages on 6h/30m ≥ 6",
      c: { "5m": [4, 2], "30m": [4, 2], "1h": [4, 2], "6h": [4, 2], "3d": [40, 38], "30d": [100, 98] } as const,
      burn: { "5m": 10, "1h": 10, "6h": 10, "3d": 1, "30d": 0.4 },
      firing: [false, true, true],
      state: "page",
      budget: 0.6,
    },
    {
      name: "fast burn: 3 of 4 bad in 5m and 1h (burn 15) pages on 1h/5m",
      c: { "5m": [4, 1], "30m": [4, 1], "1h": [4, 1], "6h": [50, 47], "3d": [200, 197], "30d": [1000, 997] } as const,
      burn: { "5m": 15, "1h": 15, "6h": 1.2, "3d": 0.3, "30d": 0.06 },
      firing: [true, false, false],
      state: "page",
      budget: 0.94,
    },
    {
      name: "an old burst no longer in the short window: 1h burns but 5m is clean → no page",
      c: { "5m": [2, 2], "30m": [5, 5], "1h": [10, 7], "6h": [40, 37], "3d": [100, 94], "30d": [300, 294] } as const,
      burn: { "5m": 0, "1h": 6, "6h": 1.5, "3d": 1.2, "30d": 0.4 },
      firing: [false, false, true],
      state: "ticket",
      budget: 0.6,
    },
    {
      name: "slow steady burn at exactly the budget rate tickets (3d and 6h at 1×)",
      c: { "5m": [0, 0], "30m": [0, 0], "1h": [20, 19], "6h": [20, 19], "3d": [20, 19], "30d": [20, 19] } as const,
      burn: { "5m": null, "1h": 1, "6h": 1, "3d": 1, "30d": 1 },
      firing: [false, false, true],
      state: "ticket",
      budget: 0,
    },
    {
      name: "all good is healthy with the whole budget left",
      c: { "5m": [1, 1], "30m": [1, 1], "1h": [3, 3], "6h": [3, 3], "3d": [9, 9], "30d": [9, 9] } as const,
      burn: { "5m": 0, "1h": 0, "6h": 0, "3d": 0, "30d": 0 },
      firing: [false, false, false],
      state: "healthy",
      budget: 1,
    },
    {
      name: "overspent budget is negative",
      c: { "30d": [10, 8], "3d": [10, 8] } as const,
      burn: { "5m": null, "1h": null, "6h": null, "3d": 4, "30d": 4 },
      firing: [false, false, false],
      state: "ticket", // nothing burns now, but the budget is used up
      budget: -3,
    },
  ])("$name", ({ c, burn, firing, state, budget }) => {
    const o = evaluateObjective({ name: "build_success", description: "", target: 0.95, counts: counts(c as never) });
    for (const [w, b] of Object.entries(burn)) {
      const got = o.windows[w as SloWindowName].burn_rate;
      if (b === null) expect(got, w).toBeNull();
      else expect(got, w).toBeCloseTo(b, 4);
    }
    expect(o.alerts.map((a) => a.firing)).toEqual(firing);
    expect(o.alerts.map((a) => [a.severity, a.long_window, a.short_window, a.burn_rate_threshold])).toEqual([
      ["page", "1h", "5m", 14.4],
      ["page", "6h", "30m", 6],
      ["ticket", "3d", "6h", 1],
    ]);
    expect(o.state).toBe(state);
    expect(o.error_budget_remaining).toBeCloseTo(budget, 4);
  });

  it("overall state is the worst objective; no_data only when all have none", () => {
    expect(worstState(["healthy", "no_data"])).toBe("healthy");
    expect(worstState(["ticket", "page"])).toBe("page");
    expect(worstState(["no_data", "no_data"])).toBe("no_data");
  });

  it("reference summary: counts, success rate and mean cycle over all builds, rounded to 4 decimals", () => {
    const b = (status: string, created: string, updated: string) => ({
      status,
      created_at: created,
      updated_at: updated,
    });
    const s = referenceSummary([
      b("completed", "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:10.000000Z"),
      b("failed", "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:05.500000Z"),
      b("running", "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:01.000000Z"),
      b("paused", "2026-01-01T00:00:10.000000Z", "2026-01-01T00:00:00.000000Z"), // negative → 0
      b("aborted", "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00.001000Z"),
      b("pending", "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00.000000Z"),
    ]);
    expect(s).toEqual({
      total_builds: 6,
      completed_builds: 1,
      failed_builds: 1,
      aborted_builds: 1,
      running_builds: 3,
      success_rate: 0.1667, // 1/6
      mean_cycle_seconds: 2.7502, // (10 + 5.5 + 1 + 0 + 0.001 + 0) / 6 = 2.75016…
    });
    expect(referenceSummary([])).toEqual({
      total_builds: 0,
      completed_builds: 0,
      failed_builds: 0,
      aborted_builds: 0,
      running_builds: 0,
      success_rate: 0,
      mean_cycle_seconds: 0,
    });
  });
});
