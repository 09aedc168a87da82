/**
 * Helpers for the program-plane suites: callers per tenant, and `seedBuildRow`, which writes a
 * build row straight into D1 with chosen timestamps (real builds can only be "now"; the SLO
 * windows need builds that finished hours or days ago).
 */
import { env } from "cloudflare:workers";
import { type Caller, caller } from "../helpers/api";

/** An operator of tenant `org` (all program capabilities except secrets/webhooks). */
export function operator(org: string, sub = `user_${org}`): Promise<Caller> {
  return caller({ sub, org_id: org, roles: ["operator"] });
}

/** A caller with exactly these capabilities (no role). */
export function withCaps(org: string, capabilities: string[], sub = `user_${org}_caps`): Promise<Caller> {
  return caller({ sub, org_id: org, roles: [], capabilities });
}

export function expectProblem(
  res: { status: number; headers: Headers; body: any },
  status: number,
  code: string,
): void {
  if (res.status !== status || res.body?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body)}`);
  }
  if (res.headers.get("content-type") !== "application/problem+json") throw new Error("not problem+json");
}

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "000Z");
}

let seq = 0;

/** Inserts a build row (no nodes/events) for tenant/creator with the given status and times. */
export async function seedBuildRow(opts: {
  tenantId: string;
  createdBy: string;
  status: string;
  createdAt: number;
  updatedAt: number;
  abortedBy?: "manual" | "replanner";
  /** Default `http`: a build that ran on the runner (the SLO counts only those). */
  runnerKind?: "http" | "simulated";
}): Promise<string> {
  const id = crypto.randomUUID();
  seq++;
  await env.DB.prepare(
    `INSERT INTO builds (build_id, tenant_id, created_by, repo_url, objective, status, scan_mode, metadata, created_at, updated_at)
     VALUES (?, ?, ?, 'https://github.com/acme/seed', 'seed', ?, 'static', ?, ?, ?)`,
  )
    .bind(
      id,
      opts.tenantId,
      opts.createdBy,
      opts.status,
      JSON.stringify({ runner_kind: opts.runnerKind ?? "http" }),
      iso(opts.createdAt),
      iso(opts.updatedAt),
    )
    .run();
  if (opts.status === "aborted" && opts.abortedBy) {
    await env.DB.prepare(
      `INSERT INTO status_transitions (transition_id, build_id, from_status, to_status, reason, source, event_seq, created_at)
       VALUES (?, ?, 'running', 'aborted', 'seed', ?, ?, ?)`,
    )
      .bind(crypto.randomUUID(), id, opts.abortedBy, seq, iso(opts.updatedAt))
      .run();
  }
  return id;
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
