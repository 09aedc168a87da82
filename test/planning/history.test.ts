import { describe, expect, it } from "vitest";
import { EMPTY_HISTORY, summariseHistory } from "../../src/planning/history";
import { historyRows } from "./helpers";

describe("summariseHistory", () => {
  it("is empty without builds", () => {
    expect(summariseHistory([], [], [])).toEqual(EMPTY_HISTORY);
  });

  it("counts per node and per agent, outcomes, fallbacks and durations", () => {
    const rows = historyRows([
      { runs: { scanner: ["completed"], builder: ["failed", "completed"] }, duration_ms: 1000 },
      {
        status: "failed",
        runs: { scanner: ["completed"], builder: ["failed", "failed", "failed"] },
        duration_ms: 3000,
      },
      {
        status: "aborted",
        fallback: true,
        runs: { builder: ["failed"], "deterministic-scan": ["completed"] },
        duration_ms: 2000,
      },
      { runs: { scanner: ["completed"], builder: ["completed"] }, duration_ms: 5000 },
    ]);
    const h = summariseHistory(rows.builds, rows.nodes, rows.runs);
    expect(h).toMatchObject({
      builds_considered: 4,
      completed: 2,
      failed: 1,
      aborted: 1,
      build_failure_rate: 0.5,
      fallback_builds: 1,
      fallback_rate: 0.25,
      median_build_duration_ms: 60_000,
    });
    expect(h.nodes.builder).toEqual({
      builds: 4,
      failed_builds: 3,
      failure_rate: 0.75,
      retried_builds: 2,
      avg_attempts: 1.75,
      p95_duration_ms: 5000,
      max_duration_ms: 5000,
    });
    expect(h.nodes.scanner).toMatchObject({ builds: 3, failed_builds: 0, failure_rate: 0, p95_duration_ms: 5000 });
    // The fallback build has no build_nodes for builder: its agent comes from the static template.
    expect(h.agents.builder).toMatchObject({ builds: 4, failed_builds: 3 });
    expect(h.agents.scanner).toMatchObject({ builds: 4 }); // deterministic-scan is a scanner too
  });

  it("ignores runs of builds outside the window", () => {
    const rows = historyRows([{ runs: { builder: ["failed"] } }, { runs: { builder: ["completed"] } }]);
    const h = summariseHistory(rows.builds.slice(0, 1), rows.nodes, rows.runs);
    expect(h.nodes.builder).toMatchObject({ builds: 1, failed_builds: 1, failure_rate: 1 });
  });
});
