import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Tests run inside workerd with real D1, KV and Durable Objects. Secrets are fixed
// test values here; nothing is read from a developer's .dev.vars.
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
          SSE_HEARTBEAT_SECONDS: "1",
        },
      },
    })),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 20000,
  },
});
