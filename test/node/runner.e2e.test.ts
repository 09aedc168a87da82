/**
 * Real scans end to end (issues 7 and 15): `wrangler dev` (control plane) + the runner service
 * (runner/, TypeScript) on loopback, scanning throwaway git repositories made here and cloned
 * over file://. Nothing is mocked: secretlint, ast-grep, the dependency checks and the
 * repository's own tests under bubblewrap all run for real.
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateSarif } from "./support/sarif-validator";
import { loadRunnerConfig } from "../../runner/src/config";
import { type RunnerHandle, startRunner } from "../../runner/src/server";
// @ts-expect-error plain ESM helper scripts without type declarations
import { applyLocalMigrations, freePort, startWranglerDev } from "../../scripts/lib/wrangler.mjs";

const jwtSecret = randomBytes(24).toString("hex");
const whsec = `whsec_${randomBytes(32).toString("base64")}`;
// A syntactically valid AWS key pair that belongs to no account (random, built here).
const AWS_ID = `AKIA${randomBytes(16)
  .toString("hex")
  .toUpperCase()
  .replace(/[^A-Z2-7]/g, "Q")
  .slice(0, 16)}`;
const AWS_SECRET = randomBytes(30).toString("base64").replace(/[+/=]/g, "x").slice(0, 40);
let tmp: string;
let api: { url: string; stop: () => Promise<void>; output: () => string };
let runner: RunnerHandle;
let token: string;

function git(dir: string, ...args: string[]) {
  execFileSync(
    "git",
    ["-c", "user.name=fixture", "-c", "user.email=fixture@example.invalid", "-c", "init.defaultBranch=main", ...args],
    { cwd: dir, stdio: "pipe" },
  );
}

function write(root: string, file: string, text: string) {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
}

/** A repository with planted problems; every expected finding is listed in PLANTED. */
function plantedRepo(dir: string) {
  write(
    dir,
    "config/settings.yml",
    `region: eu-west-1\naws_access_key_id: ${AWS_ID}\naws_secret_access_key: ${AWS_SECRET}\n`,
  );
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  write(dir, "deploy/deploy-key.pem", privateKey.export({ type: "pkcs8", format: "pem" }).toString());
  write(
    dir,
    "src/server.js",
    [
      'const { exec } = require("child_process");',
      "function handler(req, res) {",
      "  exec(`convert ${req.query.file} out.png`, () => res.end());",
      "}",
      "module.exports = { handler };",
      "",
    ].join("\n"),
  );
  write(
    dir,
    "app/views.py",
    [
      "import os",
      "from flask import request",
      "",
      "def ping():",
      '    os.system("ping -c 1 " + request.args.get("host"))',
      "",
    ].join("\n"),
  );
  write(
    dir,
    "package.json",
    `${JSON.stringify({ name: "planted", version: "1.0.0", scripts: { test: "node test/smoke.test.js" }, dependencies: { "left-pad": "1.3.0", "native-thing": "2.0.0" } }, null, 2)}\n`,
  );
  write(
    dir,
    "package-lock.json",
    `${JSON.stringify(
      {
        name: "planted",
        version: "1.0.0",
        lockfileVersion: 3,
        requires: true,
        packages: {
          "": { name: "planted", version: "1.0.0", dependencies: { "left-pad": "1.3.0", "native-thing": "2.0.0" } },
          "node_modules/left-pad": { version: "1.3.0" },
          "node_modules/native-thing": { version: "2.0.0", hasInstallScript: true },
        },
      },
      null,
      2,
    )}\n`,
  );
  write(
    dir,
    "test/smoke.test.js",
    "console.error('AssertionError: expected 1 to equal 2 (smoke)');\nprocess.exit(1);\n",
  );
  git(dir, "init", "-q");
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "planted");
}

/** [rule_id, file, line] of every finding the planted repository must produce, no more. */
const PLANTED = [
  ["aws/AWSAccessKeyID", "config/settings.yml", 2],
  ["aws/AWSSecretAccessKey", "config/settings.yml", 3],
  ["privatekey/PrivateKey", "deploy/deploy-key.pem", 1],
  ["js-exec-user-input", "src/server.js", 3],
  ["py-exec-user-input", "app/views.py", 5],
  ["dependency-install-script", "package-lock.json", 18],
  ["inventory", null, null],
  ["test-suite-fails", null, null],
].sort((a, b) => String(a[0]).localeCompare(String(b[0])));

/**
 * One API call with the project's client policy for the dev server (docs/DECISIONS.md "The local
 * dev server"): a connection the dev proxy closes before answering is retried, and a POST carries
 * an Idempotency-Key (one per call) so its retry is answered once. A CI run lost a create to
 * "other side closed" on a reused keep-alive connection.
 */
async function call(method: string, path: string, body?: unknown) {
  const key = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${api.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { "content-type": "application/json", "idempotency-key": key } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as any };
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      if (attempt >= 3 || (code !== "UND_ERR_SOCKET" && code !== "ECONNRESET")) throw err;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

async function settle(id: string, timeoutMs = 90_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const build = (await call("GET", `/v1/builds/${id}`)).body;
    if (["completed", "failed", "aborted"].includes(build.status)) return build;
    if (Date.now() > deadline) throw new Error(`build ${id} still ${build.status}\n${api.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "clarity-runner-e2e-"));
  const cfg = loadRunnerConfig(
    {
      RUNNER_SHARED_SECRET: whsec,
      RUNNER_PORT: "0",
      RUNNER_REPO_ROOTS: tmp,
      RUNNER_WORK_DIR: join(tmp, "work"),
      RUNNER_MAX_NODE_SECONDS: "60",
    },
    resolve("."),
  );
  runner = await startRunner(cfg, { rulesDir: resolve("runner/rules") });
  const persistTo = join(tmp, "state");
  await applyLocalMigrations({ persistTo });
  const port = await freePort();
  const envFile = join(tmp, "empty.env");
  writeFileSync(envFile, "# settings come from --var\n");
  api = await startWranglerDev({
    port,
    persistTo,
    envFile,
    logLevel: "warn",
    vars: {
      ENVIRONMENT: "test",
      JWT_SECRET: jwtSecret,
      STREAM_TOKEN_SECRET: randomBytes(24).toString("hex"),
      RUNNER_URL: `http://127.0.0.1:${runner.port}`,
      RUNNER_SHARED_SECRETS: whsec,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    },
  });
  token = await new SignJWT({ roles: ["operator"] })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("e2e-operator")
    .setAudience("authenticated")
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(jwtSecret));
});

afterAll(async () => {
  await api?.stop();
  await runner?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("real scans (runner service)", () => {
  it("a repository with planted problems gives exactly the expected findings; the builder fails the TEST_GATE and says why", async () => {
    const repo = join(tmp, "planted");
    plantedRepo(repo);
    // No runner_kind: with a runner configured, the build is real by default.
    const dag = [
      { node_id: "scanner", title: "Inventory", agent: "scanner" },
      { node_id: "security", title: "Security", agent: "security" },
      { node_id: "builder", title: "Tests", agent: "builder", depends_on: ["scanner", "security"], gate: "TEST_GATE" },
    ];
    const created = await call("POST", "/v1/builds", { repo_url: pathToFileURL(repo).toString(), dag });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.metadata.runner_kind).toBe("http");
    const build = await settle(created.body.build_id);
    expect(build.status).toBe("failed");
    const runs = build.task_runs.map((t: any) => [t.node_id, t.status]);
    expect(runs, JSON.stringify(build.task_runs.map((t: any) => t.error))).toEqual(
      expect.arrayContaining([
        ["scanner", "completed"],
        ["security", "completed"],
        ["builder", "failed"],
      ]),
    );
    const builderRun = build.task_runs.find((t: any) => t.node_id === "builder");
    expect(builderRun.error).toBe("tests_failed: exit code 1");
    expect(
      build.gate_history.filter((g: any) => g.gate === "TEST_GATE").map((g: any) => [g.status, g.reason, g.node_id]),
    ).toEqual([["FAIL", "runner_failed:tests_failed: exit code 1", "builder"]]);

    const findings = (await call("GET", `/v1/builds/${build.build_id}/findings?limit=500`)).body.items;
    const got = findings
      .map((f: any) => [f.rule_id, f.file, f.line])
      .sort((a: any, b: any) => String(a[0]).localeCompare(String(b[0])));
    expect(got).toEqual(PLANTED);
    for (const f of findings) expect(f.tool).toMatch(/^(secretlint|ast-grep|dependencies|inventory|builder)$/);
    const byRule = Object.fromEntries(findings.map((f: any) => [f.rule_id, f]));
    expect(byRule["aws/AWSAccessKeyID"]).toMatchObject({
      tool: "secretlint",
      severity: "critical",
      category: "secret",
      column: 20,
      snippet: `aws_access_key_id: ${"*".repeat(20)}`,
    });
    expect(byRule["js-exec-user-input"]).toMatchObject({
      tool: "ast-grep",
      severity: "high",
      category: "code-injection",
      column: 3,
      snippet: "  exec(`convert ${req.query.file} out.png`, () => res.end());",
    });
    expect(byRule["test-suite-fails"].detail).toContain("AssertionError: expected 1 to equal 2 (smoke)");
    // Secret values never leave the runner unmasked: not in findings, logs or events.
    const logs = (await call("GET", `/v1/builds/${build.build_id}/runtime/logs?limit=100`)).body;
    const events = (await call("GET", `/v1/builds/${build.build_id}/events/history?cursor=0&limit=1000`)).body;
    const everything = JSON.stringify({ findings, logs, events });
    expect(everything).not.toContain(AWS_ID);
    expect(everything).not.toContain(AWS_SECRET);
    expect(everything).not.toContain("PRIVATE KEY-----\n");
    const builderLog = logs.items.find((l: any) => l.node_id === "builder");
    expect(builderLog.message).toBe("TEST_GATE: tests failed (npm test --silent): exit code 1");
  });

  it("scanning again after removing one planted problem and adding another: exactly one fixed, one new, the rest unchanged (issue 16)", async () => {
    const repo = join(tmp, "rescan");
    plantedRepo(repo);
    const dag = [
      { node_id: "scanner", title: "Inventory", agent: "scanner" },
      { node_id: "security", title: "Security", agent: "security" },
      { node_id: "builder", title: "Tests", agent: "builder", depends_on: ["scanner", "security"], gate: "TEST_GATE" },
    ];
    const scan = async () => {
      const created = await call("POST", "/v1/builds", { repo_url: pathToFileURL(repo).toString(), dag });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return settle(created.body.build_id);
    };
    const first = await scan();
    expect(first.findings_summary).toMatchObject({
      new: PLANTED.length,
      unchanged: 0,
      fixed: 0,
      baseline_build_id: null,
    });

    // The Python injection goes, a new shell injection comes, and server.js shifts by two lines.
    write(repo, "app/views.py", ["def ping():", '    return "pong"', ""].join("\n"));
    write(
      repo,
      "src/extra.js",
      [
        'const { exec } = require("child_process");',
        "function cleanup(req, res) {",
        "  exec(`rm -rf ${req.body.path}`, () => res.end());",
        "}",
        "module.exports = { cleanup };",
        "",
      ].join("\n"),
    );
    const server = readFileSync(join(repo, "src/server.js"), "utf8");
    write(repo, "src/server.js", `// shifted\n// twice\n${server}`);
    git(repo, "add", "-A");
    git(repo, "commit", "-qm", "fix the python ping, add a cleanup endpoint");
    const second = await scan();

    const findings = (await call("GET", `/v1/builds/${second.build_id}/findings?limit=500`)).body.items as any[];
    expect(findings.filter((f) => f.state === "new").map((f) => [f.rule_id, f.file, f.line])).toEqual([
      ["js-exec-user-input", "src/extra.js", 3],
    ]);
    expect(findings.filter((f) => f.state === "unchanged")).toHaveLength(findings.length - 1);
    expect(findings.find((f) => f.file === "src/server.js")).toMatchObject({ line: 5, state: "unchanged" });
    const fixed = (await call("GET", `/v1/builds/${second.build_id}/findings/fixed`)).body;
    expect(fixed.baseline_build_id).toBe(first.build_id);
    expect(fixed.items.map((f: any) => [f.rule_id, f.file])).toEqual([["py-exec-user-input", "app/views.py"]]);
    expect(second.findings_summary).toMatchObject({
      new: 1,
      unchanged: findings.length - 1,
      fixed: 1,
      baseline_build_id: first.build_id,
    });

    // The real re-scan's SARIF export: the official validator finds no error and no warning, and
    // the log carries the baseline states (one new, one absent) and a fingerprint per result.
    const res = await fetch(`${api.url}/v1/builds/${second.build_id}/findings.sarif`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.headers.get("content-type")).toContain("application/sarif+json");
    const log = (await res.json()) as any;
    const results = log.runs.flatMap((r: any) => r.results ?? []);
    expect(results.filter((r: any) => r.baselineState === "new")).toHaveLength(1);
    expect(results.filter((r: any) => r.baselineState === "absent").map((r: any) => r.ruleId)).toEqual([
      "py-exec-user-input",
    ]);
    expect(results).toHaveLength(findings.length + 1);
    const v = validateSarif("real-rescan", log);
    expect(v.errors, v.stdout).toEqual([]);
    expect(v.warnings, v.stdout).toEqual([]);
  });

  it("a repository outside RUNNER_REPO_ROOTS is repo_unavailable with the reason", async () => {
    const created = await call("POST", "/v1/builds", {
      repo_url: "file:///etc",
      dag: [{ node_id: "scanner", title: "Inventory", agent: "scanner" }],
    });
    expect(created.status).toBe(201);
    const build = await settle(created.body.build_id);
    expect(build.status).toBe("failed");
    expect(build.task_runs[0].error).toBe("repo_unavailable: path is outside RUNNER_REPO_ROOTS");
  });

  it("a build asking for simulated runs nothing on the runner and is labelled simulated", async () => {
    const created = await call("POST", "/v1/builds", {
      repo_url: "file:///etc",
      metadata: { runner_kind: "simulated", simulated_duration_ms: 0 },
    });
    const build = await settle(created.body.build_id);
    expect(build.status).toBe("completed");
    const logs = (await call("GET", `/v1/builds/${build.build_id}/runtime/logs?limit=100`)).body.items;
    expect(new Set(logs.map((l: any) => l.runner))).toEqual(new Set(["simulated"]));
  });
});
