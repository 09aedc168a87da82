/**
 * Real execution end to end (issue 7): `wrangler dev` (control plane) + the reference runner
 * (scripts/runner) on loopback, scanning a throwaway repository made here. Nothing is mocked.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM helper scripts without type declarations
import { applyLocalMigrations, freePort, startWranglerDev } from "../../scripts/lib/wrangler.mjs";
// @ts-expect-error plain ESM helper scripts without type declarations
import { startRunner } from "../../scripts/runner/index.mjs";

const jwtSecret = randomBytes(24).toString("hex");
const whsec = `whsec_${randomBytes(32).toString("base64")}`;
const FAKE_STRIPE = `sk_live_${randomBytes(12).toString("hex")}`;
let tmp: string;
let repo: string;
let api: { url: string; stop: () => Promise<void>; output: () => string };
let runner: { close: () => Promise<void> };
let token: string;

function makeRepo(dir: string) {
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "sample", version: "1.0.0", scripts: { test: "node test/smoke.test.js" } }));
  mkdirSync(join(dir, "test"));
  writeFileSync(join(dir, "test", "smoke.test.js"), "console.log('ok'); process.exit(0);\n");
  writeFileSync(join(dir, "src", "server.js"), "const cors = require('cors');\napp.use(cors({ origin: '*' }));\nconst DEBUG = true;\nmodule.exports = { DEBUG };\n");
  writeFileSync(join(dir, ".env"), `STRIPE_SECRET_KEY=${FAKE_STRIPE}\n`);
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  writeFileSync(join(dir, "deploy.pem"), privateKey.export({ type: "pkcs8", format: "pem" }).toString());
}

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "clarity-runner-e2e-"));
  repo = join(tmp, "sample-repo");
  makeRepo(repo);
  runner = await startRunner({ secret: whsec, port: 0, maxNodeSeconds: 60 });
  const runnerPort = (runner as unknown as { port: number }).port;
  const persistTo = join(tmp, "state");
  await applyLocalMigrations({ persistTo });
  const port = await freePort();
  const envFile = join(tmp, "empty.env");
  writeFileSync(envFile, "# settings come from --var\n");
  api = await startWranglerDev({
    port, persistTo, envFile, logLevel: "warn",
    vars: {
      ENVIRONMENT: "test", JWT_SECRET: jwtSecret, STREAM_TOKEN_SECRET: randomBytes(24).toString("hex"),
      RUNNER_URL: `http://127.0.0.1:${runnerPort}`, RUNNER_SHARED_SECRETS: whsec, PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    },
  });
  token = await new SignJWT({ roles: ["operator"] }).setProtectedHeader({ alg: "HS256" }).setSubject("e2e-operator")
    .setAudience("authenticated").setExpirationTime("1h").sign(new TextEncoder().encode(jwtSecret));
});

afterAll(async () => {
  await api?.stop();
  await runner?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("reference runner end to end", () => {
  it("scans a real repository: inventory, tests, secrets (masked), config, remediation plan", async () => {
    const created = await call("POST", "/v1/builds", { repo_url: pathToFileURL(repo).toString(), metadata: { runner_kind: "http" } });
    expect(created.status, `${JSON.stringify(created.body)}\n${api.output().slice(-3000)}`).toBe(201);
    const id = created.body.build_id;
    let build: any;
    const deadline = Date.now() + 90_000;
    do {
      await new Promise((r) => setTimeout(r, 200));
      build = (await call("GET", `/v1/builds/${id}`)).body;
    } while (!["completed", "failed", "aborted"].includes(build.status) && Date.now() < deadline);
    expect(build.status, api.output().slice(-2000)).toBe("completed");
    expect(build.task_runs.map((t: any) => [t.node_id, t.status])).toEqual([
      ["scanner", "completed"], ["builder", "completed"], ["security", "completed"], ["planner", "completed"],
    ]);

    const findings = (await call("GET", `/v1/builds/${id}/findings?limit=500`)).body.items;
    const titles = findings.map((f: any) => `${f.node_id}:${f.severity}:${f.title}`);
    expect(titles).toContain("security:high:Committed .env file");
    expect(titles).toContain("security:critical:Private key");
    expect(titles).toContain("security:medium:Wildcard CORS");
    expect(titles).toContain("security:medium:Debug mode enabled");
    expect(titles).toContain("security:high:Credential in env file");
    expect(titles.some((t: string) => t.startsWith("scanner:info:") && t.includes("lines of code"))).toBe(true);
    expect(titles).toContain("scanner:low:No dependency lockfile");
    expect(JSON.stringify(findings)).not.toContain(FAKE_STRIPE);
    expect(JSON.stringify(findings)).toContain("sk_l****");

    const report = (await call("GET", `/v1/builds/${id}/report`)).body;
    expect(report.findings_total).toBe(findings.length);
    expect(report.by_severity.critical).toBeGreaterThanOrEqual(1);
    expect(report.remediation_plan).toMatch(/^Remediation plan:\n1\. \[critical\] Private key/);
    expect(report.nodes.find((n: any) => n.node_id === "builder").summary).toBe("Tests passed (npm test --silent)");
  });

  it("a failing test suite fails the builder node with the test output as a finding", async () => {
    writeFileSync(join(repo, "test", "smoke.test.js"), "console.error('boom: expected 1 to be 2'); process.exit(3);\n");
    const created = await call("POST", "/v1/builds", {
      repo_url: pathToFileURL(repo).toString(),
      dag: [{ node_id: "build", title: "Build", agent: "builder" }],
      metadata: { runner_kind: "http" },
    });
    let build: any;
    const deadline = Date.now() + 60_000;
    do {
      await new Promise((r) => setTimeout(r, 200));
      build = (await call("GET", `/v1/builds/${created.body.build_id}`)).body;
    } while (build.status === "running" && Date.now() < deadline);
    expect(build.status).toBe("failed");
    expect(build.task_runs[0].error).toBe("tests_failed_exit_3");
    const f = (await call("GET", `/v1/builds/${created.body.build_id}/findings`)).body.items;
    expect(f[0]).toMatchObject({ severity: "high", title: "Test suite fails" });
    expect(f[0].detail).toContain("boom: expected 1 to be 2");
  });
});
