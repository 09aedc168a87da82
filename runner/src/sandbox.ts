/**
 * The builder's sandbox (issue 15 item 4): the repository's own test command runs under
 * bubblewrap with no network (every namespace unshared), a clean environment with no secrets,
 * the workspace as the only writable path, read-only system directories, an unprivileged uid,
 * and wall-clock and output caps (the whole process group is killed on timeout).
 * Without bwrap, nothing runs: the caller reports `sandbox_unavailable`.
 */
import { access, constants } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { type ExecResult, execCapped } from "./exec";

/** The only environment a sandboxed command sees. */
export const SANDBOX_ENV: Readonly<Record<string, string>> = {
  PATH: "/usr/local/bin:/usr/bin:/bin",
  HOME: "/tmp",
  TMPDIR: "/tmp",
  CI: "true",
  LANG: "C.UTF-8",
  npm_config_update_notifier: "false",
  npm_config_cache: "/tmp/.npm",
  PYTHONDONTWRITEBYTECODE: "1",
};

export async function bwrapAvailable(bwrap: string): Promise<boolean> {
  try {
    await access(bwrap, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The bwrap argument list for running `cmd` in `workspace` (mounted at /work). */
export function bwrapArgs(workspace: string, cmd: string[]): string[] {
  const ro = ["/usr", "/bin", "/lib", "/lib64", "/etc/alternatives", "/etc/ssl"].filter((p) => existsSync(p));
  // The Node runtime running this service (when it lives outside /usr, e.g. /opt/node).
  const nodePrefix = dirname(dirname(process.execPath));
  if (!ro.some((p) => nodePrefix === p || nodePrefix.startsWith(`${p}/`)) && nodePrefix !== "/") ro.push(nodePrefix);
  return [
    "--unshare-all",
    "--die-with-parent",
    "--new-session",
    "--unshare-user",
    "--uid",
    "65534",
    "--gid",
    "65534",
    ...ro.flatMap((p) => ["--ro-bind", p, p]),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--tmpfs",
    "/tmp",
    "--bind",
    workspace,
    "/work",
    "--chdir",
    "/work",
    "--clearenv",
    ...Object.entries(SANDBOX_ENV).flatMap(([k, v]) => ["--setenv", k, v]),
    "--",
    ...cmd,
  ];
}

export function runSandboxed(
  bwrap: string,
  workspace: string,
  cmd: string[],
  limits: { timeoutMs: number; maxBytes: number },
): Promise<ExecResult> {
  // bwrap itself starts from an empty environment too: nothing of the runner's reaches it.
  return execCapped(bwrap, bwrapArgs(workspace, cmd), {
    env: { PATH: "/usr/bin:/bin" },
    timeoutMs: limits.timeoutMs,
    maxBytes: limits.maxBytes,
  });
}
