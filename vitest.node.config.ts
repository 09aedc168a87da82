import { defineConfig } from "vitest/config";

// Tests that run in Node, not workerd: the reference runner end to end against `wrangler dev`.
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
