/**
 * https clones with a token (issue 15 item 2) against a local TLS server that records what git
 * sends: the token travels only as an Authorization header (never in the URL), and the failure
 * reason the build sees never contains it. The server answers 404, so the clone fails with
 * repo_unavailable — no network beyond loopback.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { type Server, createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRunnerConfig } from "../src/config";
import { RepoUnavailable, obtainRepository } from "../src/repo";

let tmp: string;
let server: Server;
let port: number;
const seen: Array<{ url: string; authorization: string | undefined }> = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "clarity-https-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      join(tmp, "key.pem"),
      "-out",
      join(tmp, "cert.pem"),
    ],
    { stdio: "pipe" },
  );
  server = createServer(
    { key: readFileSync(join(tmp, "key.pem")), cert: readFileSync(join(tmp, "cert.pem")) },
    (req, res) => {
      seen.push({ url: req.url ?? "", authorization: req.headers.authorization });
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("https clone", () => {
  it("sends the token as a header only, and the failure reason never carries it", async () => {
    const cfg = loadRunnerConfig(
      {
        RUNNER_SHARED_SECRET: "whsec_AAAA",
        RUNNER_WORK_DIR: join(tmp, "work"),
        RUNNER_GIT_CA_FILE: join(tmp, "cert.pem"),
        RUNNER_CLONE_TIMEOUT_SECONDS: "20",
      },
      "/nonexistent",
    );
    const token = `ghp_${"Zx9".repeat(12)}`;
    const err = await obtainRepository(
      cfg,
      `https://127.0.0.1:${port}/acme/app.git#main`,
      { GITHUB_TOKEN: token },
      "run-https",
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepoUnavailable);
    expect((err as Error).message).toMatch(/^clone failed: /);
    expect((err as Error).message).not.toContain(token);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]!.url).toBe("/acme/app.git/info/refs?service=git-upload-pack");
    expect(seen[0]!.authorization).toBe(`Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`);
    for (const s of seen) expect(s.url).not.toContain(token);
    // The workspace of the failed clone is gone.
    expect(readdirSync(join(tmp, "work"))).toEqual([]);
  });
});
