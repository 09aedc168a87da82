/**
 * The peer of `npm run bench` (issue 19): what a Cloudflare user would build instead of this
 * project for durable multi-step runs — one Workflow instance per run, one `step.do` per DAG node,
 * the nodes of a level in parallel, each step persisted by the Workflows engine. The bench sends
 * the same level structure the project plans (node ids per level, from POST /v1/builds/preview-dag).
 *
 *   POST /runs {levels: string[][]} → 201 {id}      GET /runs/:id → {id, status}      GET /health
 */
import { WorkflowEntrypoint } from "cloudflare:workers";

export class ScanRun extends WorkflowEntrypoint {
  async run(event, step) {
    const levels = event.payload.levels;
    let done = 0;
    for (const [i, level] of levels.entries()) {
      // A zero-duration node: its result is the step's persisted output.
      const results = await Promise.all(
        level.map((node) => step.do(`${i}:${node}`, async () => ({ node, status: "completed", at: Date.now() }))),
      );
      done += results.length;
    }
    return { nodes: done };
  }
}

const json = (body, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return json({ ok: true });
    if (url.pathname === "/runs" && request.method === "POST") {
      const body = await request.json().catch(() => null);
      const levels = body?.levels;
      if (
        !Array.isArray(levels) ||
        levels.length === 0 ||
        !levels.every((l) => Array.isArray(l) && l.every((n) => typeof n === "string"))
      ) {
        return json({ error: "levels must be a non-empty array of node id arrays" }, 422);
      }
      const id = crypto.randomUUID();
      await env.SCAN_RUN.create({ id, params: { levels } });
      return json({ id }, 201);
    }
    const m = /^\/runs\/([0-9a-f-]{36})$/.exec(url.pathname);
    if (m && request.method === "GET") {
      const instance = await env.SCAN_RUN.get(m[1]);
      const s = await instance.status();
      return json({ id: m[1], status: s.status, output: s.output ?? null });
    }
    return json({ error: "not found" }, 404);
  },
};
