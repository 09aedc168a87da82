/**
 * The runner service: POST /dispatch (signed, validated by the shared zod schema) is
 * acknowledged at once; the work runs in a fresh workspace per task run (removed afterwards),
 * with heartbeats, within the node's time limit, and the result goes back through the signed
 * callback. GET /health answers liveness. One run per (task_run_id, attempt) at a time.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { RunnerConfig } from "./config";
import { type Dispatch, DispatchSchema, type RoleResult, keyOf, report, verifyDispatch } from "./protocol";
import { RepoUnavailable, type Workspace, obtainRepository } from "./repo";
import { type RoleContext, builder, planner, scanner, security } from "./roles";

const MAX_BODY = 1_048_576;

export interface RunnerHandle {
  port: number;
  close(): Promise<void>;
}

type Log = (line: string) => void;

const failed = (summary: string, error: string, exit_code = 1): RoleResult => ({
  status: "failed",
  summary,
  error,
  findings: [],
  logs_excerpt: "",
  exit_code,
});

/** Does one task run; never throws. Secrets of the dispatch are used for the clone only. */
export async function work(cfg: RunnerConfig, rulesDir: string, d: Dispatch): Promise<RoleResult> {
  const limitMs = Math.max(
    1000,
    Math.min(Date.parse(d.deadline) - Date.now() - 2000, cfg.RUNNER_MAX_NODE_SECONDS * 1000),
  );
  let ws: Workspace | null = null;
  let timer: NodeJS.Timeout | undefined;
  try {
    if (d.agent !== "planner") {
      try {
        ws = await obtainRepository(cfg, d.repo_url, d.secrets, d.task_run_id);
      } catch (err) {
        const reason = err instanceof RepoUnavailable ? err.message : "unexpected error";
        return failed(`Repository unavailable: ${reason}`, `repo_unavailable: ${reason}`);
      }
    }
    const ctx: RoleContext = { cfg, rulesDir, repo: ws?.repo ?? null, workspace: ws?.repo ?? null, limitMs };
    const job = (async (): Promise<RoleResult> => {
      switch (d.agent) {
        case "scanner":
          return scanner(ctx);
        case "security":
          return security(ctx);
        case "builder":
          return builder(ctx);
        case "planner":
          return planner(d.prior_findings);
        default:
          return {
            status: "skipped",
            summary: `No work defined for agent ${d.agent}`,
            findings: [],
            logs_excerpt: "",
            exit_code: 0,
          };
      }
    })();
    const limit = new Promise<RoleResult>((r) => {
      timer = setTimeout(() => r(failed("Node time limit reached", "node_time_limit", 124)), limitMs);
    });
    return await Promise.race([job, limit]);
  } catch (err) {
    return failed("Runner error", `runner_error: ${err instanceof Error ? err.message.slice(0, 300) : "unknown"}`);
  } finally {
    clearTimeout(timer);
    await ws?.dispose();
  }
}

export function startRunner(cfg: RunnerConfig, opts: { rulesDir: string; log?: Log }): Promise<RunnerHandle> {
  const key = keyOf(cfg.RUNNER_SHARED_SECRET);
  const active = new Set<string>();
  // Dispatch delivery ids seen within the signature window: a replayed or re-sent dispatch is
  // acknowledged again (idempotent for the control plane) but never runs twice.
  const seen = new Map<string, number>();
  const log = opts.log ?? (() => {});
  const server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && req.url === "/health") return reply(200, { status: "ok", active: active.size });
    if (req.method !== "POST" || req.url !== "/dispatch") return reply(404, { error: "not_found" });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) return reply(413, { error: "too_large" });
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks).toString("utf8");
    const bad = await verifyDispatch(key, req.headers, body);
    if (bad) return reply(401, { error: bad });
    const now = Date.now();
    for (const [id, until] of seen) if (until < now) seen.delete(id);
    const deliveryId = String(req.headers["webhook-id"]);
    if (seen.has(deliveryId)) return reply(202, { accepted: true, duplicate: true });
    seen.set(deliveryId, now + 2 * 300_000);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return reply(400, { error: "malformed_json" });
    }
    const p = DispatchSchema.safeParse(parsed);
    if (!p.success)
      return reply(422, {
        error: "invalid_dispatch",
        issues: p.error.issues.slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`),
      });
    const d = p.data;
    const runKey = `${d.task_run_id}#${d.attempt}`;
    if (active.has(runKey)) return reply(202, { accepted: true, duplicate: true });
    active.add(runKey);
    reply(202, { accepted: true });
    const base = { build_id: d.build_id, task_run_id: d.task_run_id, attempt: d.attempt };
    // Callbacks are signed with this run's own key (never the shared secret).
    const cbKey = new Uint8Array(Buffer.from(d.callback_token.slice("cbk_".length), "base64"));
    const send = (m: Parameters<typeof report>[2]) =>
      report(cbKey, d.callback_url, m).catch((e: Error) => log(`callback failed: ${e.message}`));
    const hb = setInterval(() => void send({ type: "heartbeat", ...base }), d.heartbeat_interval_seconds * 1000);
    const started = Date.now();
    try {
      await send({ type: "ack", ...base });
      const r = await work(cfg, opts.rulesDir, d);
      log(`${d.node_id}#${d.attempt} (${d.agent}) → ${r.status}: ${r.summary.split("\n")[0]}`);
      await send({
        type: "result",
        ...base,
        status: r.status,
        summary: r.summary.slice(0, 4000),
        error: r.error ?? null,
        duration_ms: Date.now() - started,
        logs_excerpt: r.logs_excerpt.slice(-8000),
        findings: r.findings.slice(0, 500),
        workspace_id: `runner-${process.pid}`,
        exit_code: r.exit_code ?? null,
      });
    } finally {
      clearInterval(hb);
      active.delete(runKey);
    }
  });
  return new Promise((resolve) => {
    server.listen(cfg.RUNNER_PORT, cfg.RUNNER_HOST, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
