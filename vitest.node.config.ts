import { defineConfig } from "vitest/config";

// Tests that run in Node, not workerd: the runner service (runner/test) and the runner end to
// end against `wrangler dev` (test/node).
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts", "runner/test/**/*.test.ts"],
    environment: "node",
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
