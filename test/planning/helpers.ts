/**
 * Helpers for the planner policy suites: history fixtures for the pure engine, and a caller whose
 * Worker env has the model-backed planner configured against the fake model server on loopback
 * (test/planning/fake-model-server.mjs, URL from `inject("plannerModelUrl")`).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { inject } from "vitest";
import { createApp } from "../../src/http/app";
import type { HistoryBuildRow, HistoryNodeRow, HistoryRunRow } from "../../src/planning/history";
import type { Caller } from "../helpers/api";
import { tokenFor, type TokenOptions } from "../helpers/auth";

declare module "vitest" {
  export interface ProvidedContext {
    plannerModelUrl: string;
  }
}

export const FAKE_MODEL_KEY = "test-planner-key";
export const FAKE_MODEL_NAME = "fake-planner";

/** The Worker env with the planner model pointing at the fake server (or `overrides`). */
export function modelEnv(overrides: Record<string, string> = {}): Env {
  return {
    ...env,
    // The fake server speaks http on loopback: allowed only under ENVIRONMENT=development (issue 17).
    ENVIRONMENT: "development",
    PLANNER_MODEL_URL: inject("plannerModelUrl"),
    PLANNER_MODEL_NAME: FAKE_MODEL_NAME,
    PLANNER_MODEL_API_KEY: FAKE_MODEL_KEY,
    ...overrides,
  } as Env;
}

/** Like helpers/api `caller`, but requests go through `createApp()` with `workerEnv`. */
export async function callerWithEnv(workerEnv: Env, opts: TokenOptions = {}): Promise<Caller> {
  const token = await tokenFor({ roles: ["operator"], ...opts });
  const app = createApp();
  return {
    token,
    async request(method, path, body, headers = {}) {
      const ctx = createExecutionContext();
      const res = await app.fetch(
        new Request(`http://cp.test${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body !== undefined ? { "content-type": "application/json" } : {}),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
        workerEnv,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// History fixtures for summariseHistory / the pure engine

export interface FakeBuild {
  status?: "completed" | "failed" | "aborted";
  fallback?: boolean;
  /** node_id → attempts' statuses, e.g. { builder: ["failed", "completed"] }. */
  runs?: Record<string, string[]>;
  /** Completed-run duration (ms) for every run of this build. */
  duration_ms?: number;
}

const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString().replace("Z", "000Z");

const STATIC_AGENTS: Record<string, string> = {
  scanner: "scanner",
  builder: "builder",
  security: "security",
  planner: "planner",
};

/** Rows for `summariseHistory` from compact build descriptions (newest first). */
export function historyRows(builds: FakeBuild[]): {
  builds: HistoryBuildRow[];
  nodes: HistoryNodeRow[];
  runs: HistoryRunRow[];
} {
  const out = { builds: [] as HistoryBuildRow[], nodes: [] as HistoryNodeRow[], runs: [] as HistoryRunRow[] };
  builds.forEach((b, i) => {
    const buildId = `b${i}`;
    const start = T0 - i * 3_600_000;
    const duration = b.duration_ms ?? 1000;
    out.builds.push({
      buildId,
      status: b.status ?? "completed",
      metadata: b.fallback ? { fallback_applied: true } : {},
      createdAt: iso(start),
      updatedAt: iso(start + 60_000),
    });
    const runs = b.runs ?? {
      scanner: ["completed"],
      builder: ["completed"],
      security: ["completed"],
      planner: ["completed"],
    };
    for (const [nodeId, statuses] of Object.entries(runs)) {
      const agent = STATIC_AGENTS[nodeId];
      if (agent !== undefined && !b.fallback) out.nodes.push({ buildId, nodeId, agent });
      statuses.forEach((status, k) => {
        out.runs.push({
          buildId,
          nodeId,
          attempt: k + 1,
          status,
          startedAt: iso(start),
          finishedAt: iso(start + duration),
        });
      });
    }
  });
  return out;
}

export { env };
