/**
 * The runner's analysers on their own (issue 15): the ast-grep rules against their fixtures
 * (`ast-grep test`: each rule fires on its `invalid` cases and stays silent on its `valid`
 * ones), secret masking, the dependency checks, the test-command detection and the
 * repository rules (roots, URLs). Real tools, files made here.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRunnerConfig } from "../src/config";
import { scanDependencies } from "../src/dependencies";
import { listFiles } from "../src/files";
import { astGrepBinary, scanPatterns } from "../src/patterns";
import { RepoUnavailable, localSource, obtainRepository, parseHttpsUrl } from "../src/repo";
import { detectTestCommand } from "../src/roles";
import { maskedLine, scanSecrets } from "../src/secrets";

const RULES = resolve("runner/rules");
let tmp: string;

function write(root: string, file: string, text: string) {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "clarity-analysers-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("ast-grep rules", () => {
  it("every rule has an id, a severity and a test file with firing and silent cases; `ast-grep test` passes", () => {
    const rules = readdirSync(join(RULES, "rules")).filter((f) => f.endsWith(".yml"));
    expect(rules.length).toBeGreaterThanOrEqual(4);
    for (const file of rules) {
      const text = readFileSync(join(RULES, "rules", file), "utf8");
      const id = /^id:\s*(\S+)/m.exec(text)?.[1];
      expect(id, file).toBe(file.replace(/\.yml$/, ""));
      expect(text).toMatch(/^severity:\s*(error|warning)/m);
      const test = readFileSync(join(RULES, "rule-tests", `${id}-test.yml`), "utf8");
      expect(test).toMatch(/^valid:\n\s+- /m);
      expect(test).toMatch(/^invalid:\n\s+- /m);
    }
    const out = execFileSync(
      astGrepBinary(),
      ["test", "--config", join(RULES, "sgconfig.yml"), "--skip-snapshot-tests"],
      { encoding: "utf8" },
    );
    expect(out).toContain(`test result: ok. ${rules.length} passed; 0 failed;`);
  });

  it("scan reports rule, file, 1-based line and column", async () => {
    const root = join(tmp, "patterns");
    write(root, "a.ts", "const x: number = 1;\napp.post('/run', (req, res) => eval(req.body.code));\n");
    write(root, "ok.py", "import yaml\nyaml.safe_load(open('x'))\n");
    const f = await scanPatterns(root, RULES, 30_000);
    expect(f.map((x) => [x.rule_id, x.file, x.line, x.column])).toEqual([["js-exec-user-input", "a.ts", 2, 32]]);
  });
});

describe("secrets", () => {
  it("masks the secret's characters in the snippet", () => {
    expect(maskedLine("a\nkey: SECRETVALUE # c\nb", 7, 18)).toBe("key: *********** # c");
  });

  it("finds a GitHub token and never returns its value", async () => {
    const root = join(tmp, "secrets");
    const token = `ghp_${"A1b2C3d4E5".repeat(3)}123456`;
    write(root, "ci/env.sh", `export X=1\nexport GH=${token}\n`);
    const f = await scanSecrets(root);
    expect(f.map((x) => [x.rule_id, x.file, x.line])).toEqual([["github/GITHUB_TOKEN", "ci/env.sh", 2]]);
    expect(JSON.stringify(f)).not.toContain(token);
    expect(f[0]!.snippet).toMatch(/^export GH=\*+$/);
  });
});

describe("dependencies", () => {
  it("flags URL deps, install hooks and unpinned ranges without a lockfile", async () => {
    const root = join(tmp, "deps");
    write(
      root,
      "package.json",
      JSON.stringify(
        {
          name: "d",
          scripts: { postinstall: "node x.js" },
          dependencies: { a: "^1.0.0", b: "github:org/b", c: "1.2.3" },
        },
        null,
        2,
      ),
    );
    write(root, "py/requirements.txt", "flask==3.0.0\nrequests>=2\ngit+https://example.invalid/x.git#egg=x\n");
    const { findings, counts } = await scanDependencies(root, await listFiles(root));
    expect(findings.map((f) => [f.rule_id, f.file, f.line])).toEqual([
      ["npm-install-hook", "package.json", 4],
      ["unpinned-dependency", "package.json", 7],
      ["dependency-from-url", "package.json", 8],
      ["unpinned-dependency", "py/requirements.txt", 2],
      ["dependency-from-url", "py/requirements.txt", 3],
    ]);
    expect(counts).toEqual({ npm: 3, pypi: 3 });
  });
});

describe("test command detection (never from the dispatch)", () => {
  it.each([
    [{ "package.json": JSON.stringify({ scripts: { test: "vitest" } }) }, ["npm", "test", "--silent"]],
    [{ "pyproject.toml": "[project]\nname='x'\n" }, ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"]],
    [{ "go.mod": "module x\n" }, ["go", "test", "./..."]],
    [{ "README.md": "hi" }, null],
  ])("%j → %j", (files, cmd) => {
    const root = mkdtempSync(join(tmp, "detect-"));
    for (const [f, t] of Object.entries(files)) write(root, f, t);
    expect(detectTestCommand(root)).toEqual(cmd);
  });
});

describe("repositories", () => {
  it("local sources must resolve under the roots (symlinks and .. included)", async () => {
    const inside = join(tmp, "roots", "ok");
    mkdirSync(inside, { recursive: true });
    symlinkSync("/etc", join(tmp, "roots", "escape"));
    expect(await localSource(`file://${inside}`, [join(tmp, "roots")])).toBe(inside);
    for (const [url, reason] of [
      [`${tmp}/roots/escape`, "path is outside RUNNER_REPO_ROOTS"],
      [`${tmp}/roots/ok/../../..`, "path is outside RUNNER_REPO_ROOTS"],
      [`file://${tmp}/roots/missing`, "no such directory"],
    ] as const) {
      await expect(localSource(url, [join(tmp, "roots")])).rejects.toThrow(new RepoUnavailable(reason));
    }
  });

  it("https URLs: ref from the fragment, credentials in the URL refused", () => {
    expect(parseHttpsUrl("https://github.com/acme/app.git#release/1.2")).toEqual({
      url: "https://github.com/acme/app.git",
      ref: "release/1.2",
    });
    expect(() => parseHttpsUrl("https://user:tok@github.com/acme/app")).toThrow("credentials in the URL are refused");
    expect(() => parseHttpsUrl("http://github.com/acme/app")).toThrow("only https://");
  });

  it("clones a local git repository into a fresh workspace and removes it afterwards; other schemes are repo_unavailable", async () => {
    const src = join(tmp, "src-repo");
    write(src, "a.txt", "committed\n");
    const git = (...a: string[]) =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...a], {
        cwd: src,
        stdio: "pipe",
      });
    git("init", "-q");
    git("add", "-A");
    git("commit", "-qm", "x");
    write(src, "uncommitted.txt", "not scanned\n");
    const cfg = loadRunnerConfig(
      { RUNNER_SHARED_SECRET: "whsec_AAAA", RUNNER_REPO_ROOTS: tmp, RUNNER_WORK_DIR: join(tmp, "work") },
      "/nonexistent",
    );
    const ws = await obtainRepository(cfg, `file://${src}`, {}, "run-1");
    expect(readdirSync(ws.repo).sort()).toEqual(["a.txt"]);
    await ws.dispose();
    expect(readdirSync(join(tmp, "work"))).toEqual([]);
    await expect(obtainRepository(cfg, "ssh://git@example.invalid/x.git", {}, "run-2")).rejects.toThrow(
      RepoUnavailable,
    );
    await expect(obtainRepository(cfg, "/etc", {}, "run-3")).rejects.toThrow("path is outside RUNNER_REPO_ROOTS");
    expect(readdirSync(join(tmp, "work"))).toEqual([]);
    // Over the size cap: refused, and the partial clone is gone.
    writeFileSync(join(src, "big.bin"), Buffer.from(Array.from({ length: 3 * 1_048_576 }, (_, i) => (i * 7919) % 251)));
    git("add", "-A");
    git("commit", "-qm", "big");
    const small = loadRunnerConfig(
      {
        RUNNER_SHARED_SECRET: "whsec_AAAA",
        RUNNER_REPO_ROOTS: tmp,
        RUNNER_WORK_DIR: join(tmp, "work"),
        RUNNER_MAX_REPO_MB: "1",
      },
      "/nonexistent",
    );
    await expect(obtainRepository(small, `file://${src}`, {}, "run-4")).rejects.toThrow(
      new RepoUnavailable("repository larger than 1 MB"),
    );
    expect(readdirSync(join(tmp, "work"))).toEqual([]);
  });
});

describe("dispatch endpoint", () => {
  it("refuses unsigned or wrongly signed dispatches, validates the body, and never runs a re-sent dispatch twice", async () => {
    const { startRunner } = await import("../src/server");
    const { signStandardWebhook } = await import("../../src/builds/runner-protocol");
    const secret = `whsec_${Buffer.from("runner-unit-test-secret-0123456789").toString("base64")}`;
    const key = new Uint8Array(Buffer.from(secret.slice(6), "base64"));
    const cfg = loadRunnerConfig(
      { RUNNER_SHARED_SECRET: secret, RUNNER_PORT: "0", RUNNER_REPO_ROOTS: tmp, RUNNER_WORK_DIR: join(tmp, "work-d") },
      "/nonexistent",
    );
    const reports: unknown[] = [];
    const cb = (await import("node:http")).createServer(async (req, res) => {
      let body = "";
      for await (const c of req) body += c;
      reports.push(JSON.parse(body));
      res.writeHead(202).end("{}");
    });
    await new Promise<void>((r) => cb.listen(0, "127.0.0.1", () => r()));
    const cbPort = (cb.address() as { port: number }).port;
    const h = await startRunner(cfg, { rulesDir: RULES });
    try {
      const dispatch = {
        build_id: crypto.randomUUID(),
        task_run_id: "tr-1",
        node_id: "plan",
        attempt: 1,
        agent: "planner",
        title: "Plan",
        objective: "x",
        repo_url: "file:///nowhere",
        deadline: new Date(Date.now() + 60_000).toISOString(),
        heartbeat_interval_seconds: 30,
        callback_url: `http://127.0.0.1:${cbPort}/v1/runner/callback`,
        callback_token: `cbk_${Buffer.alloc(32, 1).toString("base64")}`,
        secrets: {},
        prior_findings: [],
      };
      const post = async (body: string, k: Uint8Array, id = "dispatch_tr-1") =>
        fetch(`http://127.0.0.1:${h.port}/dispatch`, {
          method: "POST",
          headers: { ...(await signStandardWebhook(k, id, body)), "content-type": "application/json" },
          body,
        });
      expect((await fetch(`http://127.0.0.1:${h.port}/dispatch`, { method: "POST", body: "{}" })).status).toBe(401);
      expect((await post(JSON.stringify(dispatch), new Uint8Array(32))).status).toBe(401);
      expect(
        (await post(JSON.stringify({ ...dispatch, command: undefined, callback_token: "nope" }), key, "d-bad")).status,
      ).toBe(422);
      const first = await post(JSON.stringify(dispatch), key);
      expect([first.status, await first.json()]).toEqual([202, { accepted: true }]);
      const again = await post(JSON.stringify(dispatch), key);
      expect([again.status, await again.json()]).toEqual([202, { accepted: true, duplicate: true }]);
      const deadline = Date.now() + 10_000;
      while (!reports.some((r) => (r as { type: string }).type === "result") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      // The re-sent dispatch was answered `duplicate` before any work: one ack, one result.
      expect(reports.filter((r) => (r as { type: string }).type === "result")).toHaveLength(1);
      expect(reports.filter((r) => (r as { type: string }).type === "ack")).toHaveLength(1);
    } finally {
      await h.close();
      await new Promise((r) => cb.close(r));
    }
  });
});
