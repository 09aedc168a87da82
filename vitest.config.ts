import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { writeDashboardModule } from "./scripts/lib/dashboard-module.mjs";
import { startFakeGithub } from "./test/github/fake-github-server.mjs";

// The worker imports the dashboard as a generated module (wrangler's build step writes it too).
writeDashboardModule();

// Tests run inside workerd with real D1, KV and Durable Objects. Secrets are fixed
// test values here; nothing is read from a developer's .dev.vars.
let fake: ReturnType<typeof startFakeGithub> | undefined;
/** One fake GitHub API per vitest process (test/github/fake-github-server.mjs). */
function fakeGithub() {
  fake ??= startFakeGithub();
  return fake;
}

/** The workers pool with the pinned test bindings, plus `extra` (other suites, e.g. faults). */
export function workersPool(extra: Record<string, string> = {}) {
  return cloudflareTest(async () => ({
    main: "./src/index.ts",
    wrangler: { configPath: "./wrangler.toml" },
    miniflare: {
      bindings: {
        TEST_MIGRATIONS: await readD1Migrations("./migrations"),
        ENVIRONMENT: "test",
        JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789abcdef",
        STREAM_TOKEN_SECRET: "test-stream-secret-0123456789abcdef01234567",
        SSE_HEARTBEAT_SECONDS: "1",
        // No admission limit in the functional suites (they assert behaviour, and some create many
        // builds at once); test/http/admission.test.ts sets a tight one of its own.
        ADMISSION_MAX_IN_FLIGHT: "0",
        // Security plane test secrets (test/security/helpers.ts reads them from env).
        SECRETS_KEYRING: JSON.stringify({ "1": "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" }),
        PLATFORM_WEBHOOK_SIGNING_SECRET: "test-platform-webhook-secret-0123456789",
        // Runner protocol (issue 7). No runner here (empty = unset, and it keeps the RUNNER_URL of a
        // developer's .dev.vars out): builds are simulated (issue 15); the http adapter's suite
        // (vitest.http-runner.config.ts) sets one.
        RUNNER_URL: "",
        PUBLIC_BASE_URL: "http://127.0.0.1:8787", // pinned: a developer's .dev.vars must not leak in
        RUNNER_SHARED_SECRETS: "whsec_cnVubmVyLXRlc3Qtc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY=",
        CORS_ALLOWED_ORIGINS: "", // keep a developer's .dev.vars CORS setting out of the tests
        STANDARD_WEBHOOK_SECRETS:
          "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_dGVzdC1yb3RhdGVkLXNlY3JldC0wMTIzNDU2Nzg5",
        // Reports to GitHub go to a fake API on loopback that records them (issue 21).
        GITHUB_API_URL: (await fakeGithub()).url,
        ...extra,
      },
    },
  }));
}

export default defineConfig({
  plugins: [workersPool()],
  test: {
    include: ["test/**/*.test.ts"],
    // Node-side suites (reference runner, browser) have their own configs.
    // The fault runs need the FAULT_INJECTION hook on: they run in vitest.faults.config.ts only.
    // The http adapter's suite needs a configured runner: it runs in vitest.http-runner.config.ts.
    exclude: [
      "test/node/**",
      "test/e2e/**",
      "test/faults/**/*injection*.test.ts",
      "test/builds/http-runner*.test.ts",
      "**/node_modules/**",
    ],
    setupFiles: ["./test/setup.ts"],
    // Fake OpenAI-compatible model server on 127.0.0.1 (Node side) for the planner tests: inject("plannerModelUrl").
    globalSetup: ["./test/planning/fake-model-server.mjs"],
    testTimeout: 20000,
  },
});
