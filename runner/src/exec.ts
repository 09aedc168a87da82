/**
 * Running a child process with a wall-clock limit and an output cap; on timeout or overflow the
 * whole process group is killed (the child leads its own group).
 */
import { spawn } from "node:child_process";

export interface ExecResult {
  code: number;
  /** stdout and stderr interleaved, capped. */
  output: string;
  /** stdout alone (for machine-readable output), capped. */
  stdout: string;
  timedOut: boolean;
  truncated: boolean;
}

export function execCapped(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env: Record<string, string>; timeoutMs: number; maxBytes: number; signal?: AbortSignal },
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const chunks: Buffer[] = [];
    const outChunks: Buffer[] = [];
    let bytes = 0;
    let timedOut = false;
    let truncated = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const add = (d: Buffer) => {
      if (truncated) return;
      bytes += d.length;
      chunks.push(d);
      if (bytes > opts.maxBytes) {
        truncated = true;
        killGroup();
      }
    };
    child.stdout.on("data", (d: Buffer) => {
      if (!truncated) outChunks.push(d);
      add(d);
    });
    child.stderr.on("data", add);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, opts.timeoutMs);
    opts.signal?.addEventListener("abort", killGroup, { once: true });
    const done = (code: number, extra = "") => {
      clearTimeout(timer);
      const output = Buffer.concat(chunks).subarray(0, opts.maxBytes).toString("utf8") + extra;
      const stdout = Buffer.concat(outChunks).subarray(0, opts.maxBytes).toString("utf8");
      resolve({ code, output, stdout, timedOut, truncated });
    };
    child.on("error", (err) => done(127, String(err.message)));
    child.on("close", (code, signal) => done(code ?? (signal ? 128 + 9 : 1)));
  });
}
