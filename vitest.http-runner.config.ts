import { defineConfig } from "vitest/config";
import { workersPool } from "./vitest.config";

/**
 * The http runtime adapter suite (issues 7 and 15): the same worker and pinned test bindings in
 * workerd, plus a configured runner (RUNNER_URL), so every build's nodes go to the runner service
 * unless the build asks for `simulated`. The tests stub only the outbound fetch to
 * http://runner.test. The main suite runs without a runner (builds are simulated there).
 */
export default defineConfig({
  plugins: [workersPool({ RUNNER_URL: "http://runner.test" })],
  test: {
    include: ["test/builds/http-runner*.test.ts"],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 20000,
  },
});
