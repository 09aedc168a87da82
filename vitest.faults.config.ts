import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/**
 * The fault-injection suite (issue 9, test/faults): the same worker in workerd with real D1/KV/DO,
 * plus the development/test-only FAULT_INJECTION hook — 30% of simulated node attempts fail, 10%
 * of ticks throw inside the alarm, and every alarm is delivered twice. The main suite excludes
 * these files (it runs without the hook).
 */
export const FAULTS = { node_failure_rate: 0.3, tick_throw_rate: 0.1, redeliver_alarms: true, seed: 9 };

export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      main: "./src/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          ENVIRONMENT: "test",
          JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789abcdef",
          STREAM_TOKEN_SECRET: "test-stream-secret-0123456789abcdef01234567",
          CORS_ALLOWED_ORIGINS: "",
          FAULT_INJECTION: JSON.stringify(FAULTS),
        },
      },
    })),
  ],
  test: {
    // Only the fault runs: the hook's own unit tests (fault-hook.test.ts) run in the main suite.
    include: ["test/faults/**/*injection*.test.ts"],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 90_000,
  },
});
