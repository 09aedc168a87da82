/**
 * Getting the repository of a task run into a fresh workspace (issue 15 item 2). Accepted:
 * `file://` URLs and absolute paths whose real path is under RUNNER_REPO_ROOTS (cloned, so only
 * committed content is scanned and the source is never written), and `https://` Git URLs
 * (shallow clone at the ref; a token from the dispatch's secrets goes to git as an
 * `http.extraHeader` through GIT_CONFIG_* variables — never in the URL, the arguments or a log).
 * Clone time and workspace size are capped. Anything else is `repo_unavailable` with a reason.
 */
import { mkdtemp, readdir, realpath, rm, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunnerConfig } from "./config";
import { execCapped } from "./exec";

export class RepoUnavailable extends Error {}

/** A workspace: `dir` holds the clone in `dir/repo`; `dispose()` removes it. */
export interface Workspace {
  dir: string;
  repo: string;
  dispose(): Promise<void>;
}

/** Secret names whose value is used as the Git token for https clones (first present wins). */
export const TOKEN_SECRET_NAMES = ["GIT_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN", "REPO_TOKEN"];

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

/** The local directory a repo_url names, checked against the roots; throws RepoUnavailable. */
export async function localSource(repoUrl: string, roots: readonly string[]): Promise<string> {
  let path: string;
  try {
    path = repoUrl.startsWith("file://") ? fileURLToPath(repoUrl) : repoUrl;
  } catch {
    throw new RepoUnavailable("malformed file:// URL");
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new RepoUnavailable("no such directory");
  }
  const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => r)));
  if (!realRoots.some((r) => under(real, r))) throw new RepoUnavailable("path is outside RUNNER_REPO_ROOTS");
  if (!(await stat(real)).isDirectory()) throw new RepoUnavailable("not a directory");
  return real;
}

/** A git environment with nothing inherited: no global/system config, no prompts, no hooks. */
function gitEnv(home: string, caFile: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ASKPASS: "/bin/false",
    SSH_ASKPASS: "/bin/false",
    LANG: "C",
    ...(caFile ? { GIT_SSL_CAINFO: caFile } : {}),
    ...extra,
  };
}

async function dirBytes(dir: string, cap: number): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    // git creates and renames files while a clone runs: a vanished entry is skipped.
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (total > cap) return;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) total += (await stat(p).catch(() => ({ size: 0 }))).size;
    }
  };
  await walk(dir);
  return total;
}

/** Splits `https://host/org/repo.git#ref` into the URL and the ref. */
export function parseHttpsUrl(repoUrl: string): { url: string; ref: string | null } {
  const u = new URL(repoUrl);
  if (u.protocol !== "https:") throw new RepoUnavailable("only https:// Git URLs are cloned");
  if (u.username || u.password) throw new RepoUnavailable("credentials in the URL are refused; use a GIT_TOKEN secret");
  const ref = u.hash ? decodeURIComponent(u.hash.slice(1)) : null;
  u.hash = "";
  if (ref !== null && !/^[A-Za-z0-9._/-]{1,200}$/.test(ref)) throw new RepoUnavailable("invalid ref");
  return { url: u.toString(), ref };
}

/** Clones the run's repository into a fresh workspace under RUNNER_WORK_DIR. */
export async function obtainRepository(
  cfg: RunnerConfig,
  repoUrl: string,
  secrets: Record<string, string>,
  runId: string,
): Promise<Workspace> {
  const { mkdir } = await import("node:fs/promises");
  await mkdir(cfg.RUNNER_WORK_DIR, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(cfg.RUNNER_WORK_DIR, `${runId.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 40)}-`));
  const ws: Workspace = { dir, repo: join(dir, "repo"), dispose: () => rm(dir, { recursive: true, force: true }) };
  try {
    let source: string;
    const extra: Record<string, string> = {};
    const args = [
      "-c",
      "core.hooksPath=/dev/null",
      "-c",
      "protocol.ext.allow=never",
      "clone",
      "--quiet",
      "--depth",
      "1",
      "--no-tags",
      "--template=",
      "--single-branch",
    ];
    if (repoUrl.startsWith("https://")) {
      const { url, ref } = parseHttpsUrl(repoUrl);
      if (ref) args.push("--branch", ref);
      const token = TOKEN_SECRET_NAMES.map((n) => secrets[n]).find((v) => typeof v === "string" && v !== "");
      if (token) {
        const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
        Object.assign(extra, {
          GIT_CONFIG_COUNT: "1",
          GIT_CONFIG_KEY_0: "http.extraHeader",
          GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
        });
      }
      source = url;
    } else if (repoUrl.startsWith("file://") || repoUrl.startsWith("/")) {
      const local = await localSource(repoUrl, cfg.RUNNER_REPO_ROOTS);
      source = `file://${local}`;
    } else {
      throw new RepoUnavailable(
        "unsupported repository URL (https://, file:// or an absolute path under RUNNER_REPO_ROOTS)",
      );
    }
    const cap = cfg.RUNNER_MAX_REPO_MB * 1_048_576;
    // The size cap holds while git writes too: a watcher stops the clone once the workspace is over it.
    const tooLarge = new AbortController();
    const watcher = setInterval(() => {
      void dirBytes(dir, cap).then(
        (n) => n > cap && tooLarge.abort(),
        () => undefined,
      );
    }, 500);
    let r: Awaited<ReturnType<typeof execCapped>>;
    try {
      r = await execCapped("git", [...args, "--", source, ws.repo], {
        env: gitEnv(dir, cfg.RUNNER_GIT_CA_FILE, extra),
        timeoutMs: cfg.RUNNER_CLONE_TIMEOUT_SECONDS * 1000,
        maxBytes: 64 * 1024,
        signal: tooLarge.signal,
      });
    } finally {
      clearInterval(watcher);
    }
    if (tooLarge.signal.aborted) throw new RepoUnavailable(`repository larger than ${cfg.RUNNER_MAX_REPO_MB} MB`);
    if (r.timedOut) throw new RepoUnavailable(`clone exceeded ${cfg.RUNNER_CLONE_TIMEOUT_SECONDS} s`);
    if (r.code !== 0) {
      // git's message may echo the URL (never the header); keep the first line, minus any userinfo.
      const line = r.output.split("\n").find((l) => l.trim()) ?? `git exit ${r.code}`;
      throw new RepoUnavailable(`clone failed: ${line.replace(/\/\/[^@/\s]+@/g, "//").slice(0, 200)}`);
    }
    if ((await dirBytes(ws.repo, cap)) > cap)
      throw new RepoUnavailable(`repository larger than ${cfg.RUNNER_MAX_REPO_MB} MB`);
    await rm(join(ws.repo, ".git"), { recursive: true, force: true });
    return ws;
  } catch (err) {
    await ws.dispose();
    if (err instanceof RepoUnavailable) throw err;
    throw new RepoUnavailable(err instanceof Error ? err.message : String(err));
  }
}
