import { defineConfig } from "vitest/config";

// Browser suite (test/e2e): real headless Chromium (Debian's /usr/bin/chromium via
// playwright-core) against `wrangler dev`, started once by the global setup. Runs in Node, not in
// the workers pool; one file at a time (each drives its own browser). `npm run test:e2e`.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.mjs"],
    environment: "node",
    pool: "forks",
    fileParallelism: false,
    globalSetup: ["./test/e2e/support/global-setup.mjs"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
