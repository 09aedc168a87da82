#!/usr/bin/env node
// Reference runner (issue 7): a small service that speaks the runner protocol. It acknowledges
// a signed dispatch at once, heartbeats, does the node's work on a local checkout per agent
// role (scanner, builder, security, planner) within the node's time limit, and reports the
// result through the signed callback. `npm run runner` — configuration by environment:
//   RUNNER_SHARED_SECRET  whsec_… (the first of the control plane's RUNNER_SHARED_SECRETS;
//                         defaults to the one `npm start` wrote into .dev.vars)
//   RUNNER_PORT           port on 127.0.0.1 (default 8788)
//   RUNNER_REPO_ROOT      optional: repos named by URL are looked up as <root>/<last path segment>
//   RUNNER_MAX_NODE_SECONDS  cap on one node's work (default 300)
import { createServer } from "node:http";
import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readDevVars } from "../lib/dev-vars.mjs";
import { keyOf, report, verify } from "./protocol.mjs";
import { builder, planner, scanner, security } from "./roles.mjs";

const MAX_BODY = 1_048_576;

/** Maps a repo_url to a local directory: file:// URLs, absolute paths, or RUNNER_REPO_ROOT/<name>. */
export async function resolveRepo(repoUrl, repoRoot) {
  let dir = null;
  if (repoUrl.startsWith("file://")) dir = fileURLToPath(repoUrl);
  else if (repoUrl.startsWith("/")) dir = repoUrl;
  else if (repoRoot) dir = resolve(repoRoot, basename(repoUrl.replace(/\.git$/, "").replace(/\/+$/, "")));
  if (!dir) return null;
  try {
    return (await stat(dir)).isDirectory() ? dir : null;
  } catch {
    return null;
  }
}

async function work(d, opts) {
  const started = Date.now();
  const limitMs = Math.max(1000, Math.min(Date.parse(d.deadline) - Date.now() - 2000, opts.maxNodeSeconds * 1000));
  const repo = await resolveRepo(d.repo_url, opts.repoRoot);
  if (!repo && d.agent !== "planner") return { status: "failed", summary: `Repository not available locally: ${d.repo_url}`, error: "repo_unavailable", findings: [], logs_excerpt: "", exit_code: 1 };
  const timeout = new Promise((r) => setTimeout(() => r({ status: "failed", summary: "Node time limit reached", error: "node_time_limit", findings: [], logs_excerpt: "", exit_code: 124 }), limitMs));
  const job = (async () => {
    switch (d.agent) {
      case "scanner": return scanner(repo);
      case "builder": return builder(repo, limitMs);
      case "security": return security(repo);
      case "planner": return planner(d.prior_findings ?? []);
      default: return { status: "completed", summary: `No work defined for agent ${d.agent}`, findings: [], logs_excerpt: "", exit_code: 0 };
    }
  })();
  const r = await Promise.race([job, timeout]);
  return { ...r, duration_ms: Date.now() - started };
}

export function startRunner(opts) {
  const key = keyOf(opts.secret);
  const active = new Map();
  const server = createServer(async (req, res) => {
    const reply = (status, body) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(body)); };
    if (req.method === "GET" && req.url === "/health") return reply(200, { status: "ok", active: active.size });
    if (req.method !== "POST" || req.url !== "/dispatch") return reply(404, { error: "not_found" });
    let body = "";
    for await (const chunk of req) {
      body += chunk;
      if (body.length > MAX_BODY) return reply(413, { error: "too_large" });
    }
    const err = verify(key, req.headers, body);
    if (err) return reply(401, { error: err });
    let d;
    try { d = JSON.parse(body); } catch { return reply(400, { error: "malformed_json" }); }
    const runKey = `${d.task_run_id}#${d.attempt}`;
    if (active.has(runKey)) return reply(202, { accepted: true, duplicate: true });
    reply(202, { accepted: true });
    const base = { build_id: d.build_id, task_run_id: d.task_run_id, attempt: d.attempt };
    const send = (m) => report(key, d.callback_url, { ...base, ...m }).catch((e) => opts.log?.(`callback failed: ${e.message}`));
    const hb = setInterval(() => send({ type: "heartbeat" }), Math.max(1, d.heartbeat_interval_seconds ?? 10) * 1000);
    active.set(runKey, hb);
    try {
      await send({ type: "ack" });
      const r = await work(d, opts).catch((e) => ({ status: "failed", summary: "Runner error", error: String(e.message ?? e), findings: [], logs_excerpt: "", exit_code: 1, duration_ms: 0 }));
      opts.log?.(`${d.node_id}#${d.attempt} (${d.agent}) → ${r.status}: ${r.summary.split("\n")[0]}`);
      await send({ type: "result", ...r, error: r.error ?? null, workspace_id: `runner-${process.pid}` });
    } finally {
      clearInterval(hb);
      active.delete(runKey);
    }
  });
  return new Promise((resolveStart) => server.listen(opts.port, "127.0.0.1", () => resolveStart({ port: server.address().port, close: () => new Promise((r) => server.close(r)) })));
}

/** The first RUNNER_SHARED_SECRETS entry of the project's .dev.vars (local development). */
function devVarsSecret() {
  return readDevVars()?.RUNNER_SHARED_SECRETS?.trim().split(/[\s,]+/)[0];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const secret = process.env.RUNNER_SHARED_SECRET ?? devVarsSecret();
  if (!secret) {
    console.error("RUNNER_SHARED_SECRET is required (whsec_…, the first of the control plane's RUNNER_SHARED_SECRETS; npm start writes both into .dev.vars)");
    process.exit(2);
  }
  const { port } = await startRunner({
    secret,
    port: Number(process.env.RUNNER_PORT ?? 8788),
    repoRoot: process.env.RUNNER_REPO_ROOT,
    maxNodeSeconds: Number(process.env.RUNNER_MAX_NODE_SECONDS ?? 300),
    log: (m) => console.log(`[runner] ${m}`),
  });
  console.log(`[runner] listening on http://127.0.0.1:${port}`);
}
