/**
 * The builder's sandbox with real bubblewrap (issue 15 item 4): a repository whose test script
 * tries to read the runner's secret from the environment and from `.dev.vars`, to write outside
 * its workspace and to open network connections. Every attempt fails; nothing secret appears in
 * the result. Without bwrap the builder is skipped with `sandbox_unavailable`.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRunnerConfig } from "../src/config";
import { builder } from "../src/roles";
import { bwrapArgs } from "../src/sandbox";

const SECRET = `whsec_${randomBytes(24).toString("base64")}`;
const DEV_VARS_SECRET = `dev-vars-${randomBytes(12).toString("hex")}`;
let tmp: string;
let checkout: string;
let workspace: string;
let listener: ReturnType<typeof createServer>;
let port: number;
let connections = 0;

/** The hostile test script: each attempt prints `<name>: blocked` or `<name>: ESCAPED <what>`. */
function hostileScript(paths: { devVars: string; outside: string[] }, port: number): string {
  return `
const fs = require("fs");
const net = require("net");
const out = [];
const leaked = Object.entries(process.env).filter(([k, v]) => /SECRET|TOKEN|KEY|PASSWORD/i.test(k) || String(v).startsWith("whsec_"));
out.push(leaked.length ? "env: ESCAPED " + leaked.map(([k]) => k).join(",") : "env: blocked");
for (const p of ${JSON.stringify([paths.devVars])}) {
  try { fs.readFileSync(p, "utf8"); out.push("read " + p + ": ESCAPED"); } catch (e) { out.push("read .dev.vars: blocked (" + e.code + ")"); }
}
for (const p of ${JSON.stringify(paths.outside)}) {
  try { fs.writeFileSync(p, "pwned"); out.push("write " + p + ": ESCAPED"); } catch (e) { out.push("write outside: blocked (" + e.code + ")"); }
}
fs.writeFileSync("inside.txt", "ok");
out.push("write workspace: ok");
const s = net.connect(${port}, "127.0.0.1");
s.on("connect", () => { out.push("connect: ESCAPED"); done(); });
s.on("error", (e) => { out.push("connect: blocked (" + e.code + ")"); require("dns").lookup("registry.npmjs.org", (err) => { out.push(err ? "dns: blocked (" + err.code + ")" : "dns: ESCAPED"); done(); }); });
function done() { console.log(out.join("\\n")); process.exit(out.some((l) => l.includes("ESCAPED")) ? 1 : 0); }
`;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "clarity-sandbox-"));
  checkout = join(tmp, "checkout");
  mkdirSync(checkout);
  writeFileSync(join(checkout, ".dev.vars"), `RUNNER_SHARED_SECRETS=${SECRET}\nJWT_SECRET=${DEV_VARS_SECRET}\n`);
  listener = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => listener.listen(0, "127.0.0.1", () => r()));
  port = (listener.address() as { port: number }).port;
  workspace = join(tmp, "ws");
  mkdirSync(join(workspace, "repo", "test"), { recursive: true });
  writeFileSync(
    join(workspace, "repo", "package.json"),
    JSON.stringify({ name: "hostile", version: "1.0.0", scripts: { test: "node test/escape.js" } }),
  );
  writeFileSync(
    join(workspace, "repo", "test", "escape.js"),
    hostileScript(
      { devVars: join(checkout, ".dev.vars"), outside: [join(tmp, "escaped.txt"), join(checkout, "escaped.txt")] },
      port,
    ),
  );
  // The runner's own secrets are in its environment; the sandbox must not pass them on.
  process.env.RUNNER_SHARED_SECRET = SECRET;
  process.env.GITHUB_TOKEN = DEV_VARS_SECRET;
});

afterAll(async () => {
  delete process.env.RUNNER_SHARED_SECRET;
  delete process.env.GITHUB_TOKEN;
  await new Promise((r) => listener?.close(r));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const cfg = (over: Record<string, string> = {}) =>
  loadRunnerConfig({ RUNNER_SHARED_SECRET: SECRET, RUNNER_REPO_ROOTS: tmpdir(), ...over }, "/nonexistent");

describe("builder sandbox (bubblewrap)", () => {
  it("every escape attempt fails and nothing secret reaches the result", async () => {
    const r = await builder({
      cfg: cfg(),
      rulesDir: "",
      repo: join(workspace, "repo"),
      workspace: join(workspace, "repo"),
      limitMs: 60_000,
    });
    expect(r.logs_excerpt).toContain("env: blocked");
    expect(r.logs_excerpt).toContain("read .dev.vars: blocked (ENOENT)");
    expect(r.logs_excerpt.match(/write outside: blocked/g)).toHaveLength(2);
    expect(r.logs_excerpt).toContain("write workspace: ok");
    expect(r.logs_excerpt).toMatch(/connect: blocked \((ECONNREFUSED|ENETUNREACH)\)/);
    expect(r.logs_excerpt).toMatch(/dns: blocked/);
    expect(r.logs_excerpt).not.toContain("ESCAPED");
    expect(r).toMatchObject({ status: "completed", exit_code: 0 });
    expect(existsSync(join(tmp, "escaped.txt"))).toBe(false);
    expect(existsSync(join(checkout, "escaped.txt"))).toBe(false);
    expect(existsSync(join(workspace, "repo", "inside.txt"))).toBe(true);
    expect(connections).toBe(0);
    const text = JSON.stringify(r);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(DEV_VARS_SECRET);
  });

  it("a test run over its wall-clock limit is killed with its whole process group", async () => {
    const dir = join(tmp, "slow");
    mkdirSync(join(dir, "test"), { recursive: true });
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "slow", version: "1.0.0", scripts: { test: "node test/slow.js" } }),
    );
    // A detached grandchild that would outlive a plain kill of the direct child.
    writeFileSync(
      join(dir, "test", "slow.js"),
      `require("child_process").spawn("sh", ["-c", "sleep 600"], { detached: true, stdio: "ignore" }); setInterval(() => {}, 1000);\n`,
    );
    const started = Date.now();
    const r = await builder({
      cfg: cfg({ RUNNER_TEST_TIMEOUT_SECONDS: "2" }),
      rulesDir: "",
      repo: dir,
      workspace: dir,
      limitMs: 60_000,
    });
    expect(r.status).toBe("failed");
    expect(r.error).toBe("tests_failed: timed out after 2 s");
    expect(r.summary).toBe("TEST_GATE: tests failed (npm test --silent): timed out after 2 s");
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("without bubblewrap the builder is skipped with sandbox_unavailable and runs nothing", async () => {
    const r = await builder({
      cfg: cfg({ RUNNER_BWRAP: join(tmp, "no-bwrap") }),
      rulesDir: "",
      repo: join(workspace, "repo"),
      workspace: join(workspace, "repo"),
      limitMs: 10_000,
    });
    expect(r).toMatchObject({ status: "skipped", error: "sandbox_unavailable" });
  });

  it("the bwrap arguments: no network, clean env, only the workspace writable", () => {
    const args = bwrapArgs("/ws", ["npm", "test"]);
    expect(args.slice(0, 3)).toEqual(["--unshare-all", "--die-with-parent", "--new-session"]);
    expect(args).toContain("--clearenv");
    const binds = args.flatMap((a, i) => (a === "--bind" ? [`${args[i + 1]}:${args[i + 2]}`] : []));
    expect(binds).toEqual(["/ws:/work"]);
    expect(args.join(" ")).not.toMatch(/SECRET|TOKEN/);
    expect(args.slice(-3)).toEqual(["--", "npm", "test"]);
  });
});
