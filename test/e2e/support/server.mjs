// @ts-check
/**
 * Starts the control plane for the browser suite: `wrangler dev` (scripts/lib/wrangler.mjs) on a
 * free loopback port with a fresh temporary `--persist-to` (migrations applied first), an empty
 * `--env-file` (the developer's .dev.vars is never read) and every setting as `--var`, including
 * ENVIRONMENT=development so the dashboard's one-click development sign-in is offered.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { applyLocalMigrations, freePort, startWranglerDev } from "../../../scripts/lib/wrangler.mjs";

const hex = (n = 24) => randomBytes(n).toString("hex");

/**
 * @returns {Promise<{ url: string, secrets: { jwt: string, platformWebhook: string }, output: () => string,
 *   exited: Promise<{ code: number | null, signal: string | null }>, stop: () => Promise<void> }>}
 */
/** The sub (= tenant, no org claim) of the e2e deployment's administrators (DEPLOYMENT_ADMIN_TENANT). */
export const DEPLOYMENT_ADMIN_SUB = "e2e-deployment-admin";

export async function startControlPlane() {
  const dir = mkdtempSync(join(os.tmpdir(), "clarity-e2e-"));
  const persistTo = join(dir, "state");
  const envFile = join(dir, "e2e.env");
  writeFileSync(envFile, "# intentionally empty: the e2e suite passes its settings with --var\n");
  const secrets = { jwt: hex(), platformWebhook: hex() };
  try {
    await applyLocalMigrations({ persistTo });
    const server = await startWranglerDev({
      port: await freePort(),
      persistTo,
      envFile,
      logLevel: "warn",
      echo: process.env.E2E_VERBOSE === "1",
      vars: {
        ENVIRONMENT: "development",
        JWT_SECRET: secrets.jwt,
        STREAM_TOKEN_SECRET: hex(),
        SECRETS_KEYRING: JSON.stringify({ 1: randomBytes(32).toString("base64") }),
        PLATFORM_WEBHOOK_SIGNING_SECRET: secrets.platformWebhook,
        // Deliveries signed with the deployment-wide secrets belong to no tenant: only admins of
        // this tenant see them (issue 17). Suites view deliveries as DEPLOYMENT_ADMIN_SUB.
        DEPLOYMENT_ADMIN_TENANT: DEPLOYMENT_ADMIN_SUB,
      },
    });
    return {
      url: server.url,
      secrets,
      output: server.output,
      exited: server.exited,
      stop: async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
