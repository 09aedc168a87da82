import { defineConfig } from "vitest/config";
import { workersPool } from "./vitest.config";

/**
 * The fault-injection suite (issue 9, test/faults): the same worker and pinned test bindings in
 * workerd with real D1/KV/DO, plus the development/test-only FAULT_INJECTION hook — 30% of
 * simulated node attempts fail, 10% of ticks throw inside the alarm, every alarm is delivered
 * twice, and 5% of tick commits fail before D1 applies them and 5% after (the response lost).
 * The main suite excludes these files (it runs without the hook).
 */
export const FAULTS = {
  node_failure_rate: 0.3,
  tick_throw_rate: 0.1,
  redeliver_alarms: true,
  commit_throw_rate: 0.05,
  commit_lost_rate: 0.05,
  seed: 9,
};

export default defineConfig({
  plugins: [workersPool({ FAULT_INJECTION: JSON.stringify(FAULTS) })],
  test: {
    // Only the fault runs: the hook's own unit tests (fault-hook.test.ts) run in the main suite.
    include: ["test/faults/**/*injection*.test.ts"],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 90_000,
  },
});
