/**
 * Helpers for the GitHub integration suites (issue 21): deliveries signed exactly as GitHub signs
 * them (`sign()` of @octokit/webhooks-methods, the library GitHub's own SDK uses), payload
 * fixtures, a tenant set up with its webhook secret, token and a repository binding, and the
 * requests the fake GitHub API (test/github/fake-github-server.mjs) recorded.
 */
import { sign } from "@octokit/webhooks-methods";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { type Caller, caller, raw } from "../helpers/api";
import { checkResponse } from "../helpers/openapi";

export const WEBHOOK_SECRET = "gh-webhook-secret-for-tests-0123456789";
export const GITHUB_TOKEN = "ghp_test_token_0123456789abcdefghijklmnop";

export const sha = (seed: string) =>
  Array.from({ length: 40 }, (_, i) => "0123456789abcdef"[(seed.charCodeAt(i % seed.length) + i) % 16]).join("");

export interface Tenant {
  id: string;
  admin: Caller;
}

/** A tenant whose admin stored the webhook secret (and, unless `token: false`, the GitHub token). */
export async function tenant(id: string, opts: { token?: boolean } = {}): Promise<Tenant> {
  const admin = await caller({ sub: `${id}_admin`, org_id: id, roles: ["admin"] });
  const put = async (name: string, value: string) =>
    expect((await admin.request("POST", "/v1/program/secrets", { name, value })).status).toBe(201);
  await put("github_webhook_secret", WEBHOOK_SECRET);
  if (opts.token !== false) await put("github_token", GITHUB_TOKEN);
  return { id, admin };
}

/** Binds `repository` (owner/name) with `settings`; returns the binding. */
export async function bind(t: Tenant, repository: string, settings: Record<string, unknown> = {}) {
  const res = await t.admin.request("POST", "/v1/program/repositories", { repository, ...settings });
  expect(res.status).toBe(201);
  return res.body;
}

/** POSTs a delivery signed as GitHub does (or with `secret`, or a given `signature`). */
export async function deliver(
  tenantId: string,
  event: string,
  payload: unknown,
  opts: { id?: string; secret?: string; signature?: string } = {},
) {
  const body = JSON.stringify(payload);
  const id = opts.id ?? crypto.randomUUID();
  const signature = opts.signature ?? (await sign(opts.secret ?? WEBHOOK_SECRET, body));
  const path = `/v1/program/webhook/github/${encodeURIComponent(tenantId)}`;
  const res = await raw(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/test",
      "x-github-event": event,
      "x-github-delivery": id,
      "x-github-hook-id": "1",
      "x-hub-signature-256": signature,
    },
    body,
  });
  const parsed = (await res.json()) as any;
  await checkResponse("POST", path, res.status, res.headers, parsed);
  return { status: res.status, headers: res.headers, body: parsed, id };
}

function repository(fullName: string) {
  return {
    full_name: fullName,
    name: fullName.split("/")[1],
    clone_url: `https://github.com/${fullName}.git`,
    html_url: `https://github.com/${fullName}`,
  };
}

export function pushPayload(fullName: string, branch: string, after: string) {
  return {
    ref: `refs/heads/${branch}`,
    before: sha("before"),
    after,
    created: false,
    deleted: false,
    forced: false,
    compare: `https://github.com/${fullName}/compare/${sha("before").slice(0, 12)}...${after.slice(0, 12)}`,
    head_commit: { id: after, message: "change", url: `https://github.com/${fullName}/commit/${after}` },
    repository: repository(fullName),
    sender: { login: "octocat" },
  };
}

export function pullRequestPayload(
  fullName: string,
  action: string,
  pr: { number: number; head: string; headSha: string; base: string; baseSha: string },
) {
  return {
    action,
    number: pr.number,
    pull_request: {
      number: pr.number,
      html_url: `https://github.com/${fullName}/pull/${pr.number}`,
      head: { ref: pr.head, sha: pr.headSha, repo: repository(fullName) },
      base: { ref: pr.base, sha: pr.baseSha, repo: repository(fullName) },
    },
    repository: repository(fullName),
    sender: { login: "octocat" },
  };
}

export interface Recorded {
  method: string;
  path: string;
  repo: string;
  headers: Record<string, string>;
  body: any;
}

/** What the fake GitHub API received for `repo` (owner/name). */
export async function recorded(repo: string): Promise<Recorded[]> {
  const res = await fetch(`${env.GITHUB_API_URL}/__recorded?repo=${encodeURIComponent(repo)}`);
  return (await res.json()) as Recorded[];
}

/** Waits (deadline, no fixed sleep) until the fake API received a request for `repo` matching `pred`. */
export async function waitForRecorded(
  repo: string,
  pred: (r: Recorded) => boolean,
  timeoutMs = 15_000,
): Promise<Recorded> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = (await recorded(repo)).find(pred);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`the fake GitHub API received nothing matching for ${repo}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The tenant's builds started by a trigger with `headSha`. */
export async function buildsAt(t: Tenant, headSha: string): Promise<any[]> {
  const res = await t.admin.request("GET", "/v1/builds?limit=200");
  expect(res.status).toBe(200);
  return res.body.items.filter((b: any) => b.trigger?.head_sha === headSha);
}
