/**
 * Issue 22's reproduction: the local embedded default (`npm start`'s dev server: wrangler's
 * programmatic dev server without the inspector, quiet log level, the worker applying its own
 * migrations) under a 500-build burst with 50 concurrent pollers, as the dashboard polls it.
 *
 * Every request goes through the client policy the project's own clients use (public/app/api.js,
 * the runner, the bench): reads and writes that carry an Idempotency-Key get a deadline per
 * attempt and up to five attempts (backing off 0.25, 0.5, 1, 2 s) on a reset connection, a missed
 * deadline or a 503 — because
 * wrangler's dev proxy resets or parks requests under bursts (docs/DECISIONS.md "The local dev
 * server"). The test asserts what a user sees: no request fails, none is answered with a 5xx,
 * every create gives exactly one build, and every build finishes. The raw first-attempt failures
 * (the proxy's share) are printed as the reproduction's figures; `npm run bench` measures the
 * latency targets.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM helper scripts without type declarations
import { freePort, startWranglerDev } from "../../scripts/lib/wrangler.mjs";
// @ts-expect-error plain ESM helper scripts without type declarations
import { retryAfterMs } from "../../scripts/lib/bench-load.mjs";

const BUILDS = 500;
const POLLERS = 50;
const ATTEMPT_DEADLINE_MS = 15_000;
const ATTEMPTS = 5;
/** The wait before attempt n + 1, as public/app/api.js backs off. */
const backoff = (attempt: number) => new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
/** All builds terminal within this (a loaded 2-core CI box; the bench reports the real figure). */
const ALL_TERMINAL_WITHIN_MS = 240_000;
const TERMINAL = new Set(["completed", "failed", "aborted"]);

let tmp = "";
let token = "";
let server: { url: string; output(): string; stop(): Promise<void> } | null = null;

interface Outcome {
  ok: boolean;
  status: number;
  attempts: number;
  ms: number;
  firstFailure: string | null;
}
const outcomes: Outcome[] = [];
/** Creates refused 429 `overloaded` by the worker's admission control (and sent again later). */
let refusals = 0;

/** One request with the project's client policy; records its outcome. */
async function send(
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  key?: string,
): Promise<{ status: number; json: any }> {
  const started = performance.now();
  let firstFailure: string | null = null;
  const inFlightUntil = started + ATTEMPT_DEADLINE_MS;
  let overloadRetries = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${server!.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { "content-type": "application/json" } : {}),
          ...(key ? { "idempotency-key": key } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(ATTEMPT_DEADLINE_MS),
      });
      const json: any = await res.json().catch(() => null);
      // 429 overloaded: the instance's admission control; sit out its Retry-After (plus jitter).
      if (res.status === 429 && json?.code === "overloaded" && overloadRetries < 20) {
        overloadRetries++;
        refusals++;
        await new Promise((r) => setTimeout(r, retryAfterMs(res.headers)));
        attempt--;
        continue;
      }
      if (res.status === 503 && attempt < ATTEMPTS) {
        firstFailure ??= `503 ${JSON.stringify(json)?.slice(0, 80)}`;
        await backoff(attempt);
        continue;
      }
      // A keyed retry while the first attempt is still processed: ask again until it is stored.
      if (
        key &&
        attempt > 1 &&
        res.status === 409 &&
        json?.code === "idempotency_key_in_flight" &&
        performance.now() < inFlightUntil
      ) {
        await new Promise((r) => setTimeout(r, 500));
        attempt--;
        continue;
      }
      outcomes.push({
        ok: res.status < 500,
        status: res.status,
        attempts: attempt,
        ms: performance.now() - started,
        firstFailure,
      });
      return { status: res.status, json };
    } catch (err) {
      firstFailure ??= String((err as Error).cause ?? err).slice(0, 120);
      if (attempt >= ATTEMPTS) {
        outcomes.push({ ok: false, status: 0, attempts: attempt, ms: performance.now() - started, firstFailure });
        throw err;
      }
      await backoff(attempt);
    }
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "clarity-burst-"));
  const envFile = join(tmp, "empty.env");
  writeFileSync(envFile, "# settings come from --var\n");
  const jwtSecret = randomBytes(24).toString("hex");
  token = await new SignJWT({ roles: ["admin"] })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("burst-admin")
    .setAudience("authenticated")
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(jwtSecret));
  const port = await freePort();
  server = await startWranglerDev({
    port,
    persistTo: join(tmp, "state"),
    envFile,
    logLevel: "warn",
    extraArgs: ["--test-scheduled", "--dev-migrations"],
    inspector: false, // as npm start runs it
    vars: {
      ENVIRONMENT: "development",
      LOG_LEVEL: "warn",
      JWT_SECRET: jwtSecret,
      STREAM_TOKEN_SECRET: randomBytes(24).toString("hex"),
      RATE_LIMIT_ENABLED: "false",
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    },
  });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("npm start under a 500-build burst with 50 pollers (issue 22)", () => {
  it(
    "drops nothing: every create gives one build, every poll is answered, no 5xx, every build finishes",
    async () => {
      const started = Date.now();
      const created: string[] = [];
      let done = false;
      const creates = Array.from({ length: BUILDS }, async (_, i) => {
        await new Promise((r) => setTimeout(r, 0));
        const res = await send(
          "POST",
          "/v1/builds",
          { repo_url: `https://example.test/burst/${i % 20}`, metadata: { simulated_duration_ms: 20 } },
          randomUUID(),
        );
        expect(res.status, JSON.stringify(res.json)).toBe(201);
        created.push(res.json.build_id);
      });
      // Pollers as the dashboard runs them: the list page and single builds, until all are terminal.
      const pollErrors: string[] = [];
      const pollers = Array.from({ length: POLLERS }, async (_, p) => {
        for (let i = 0; !done; i++) {
          try {
            if ((p + i) % 2 === 0 || created.length === 0) {
              const res = await send("GET", "/v1/builds?limit=50");
              expect(res.status).toBe(200);
            } else {
              const id = created[(p * 7 + i) % created.length]!;
              const res = await send("GET", `/v1/builds/${id}`);
              expect(res.status).toBe(200);
            }
          } catch (err) {
            pollErrors.push(String(err));
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      });
      const createErrors = (await Promise.allSettled(creates))
        .filter((r) => r.status === "rejected")
        .map((r) => String((r as PromiseRejectedResult).reason));
      expect(
        createErrors,
        `${[...new Set(outcomes.map((o) => o.firstFailure))]}\n${server!.output().slice(-3000)}`,
      ).toEqual([]);
      expect(new Set(created).size).toBe(BUILDS);

      // Every build finishes; the list (paged) holds exactly the 500 builds.
      let statuses: Record<string, string> = {};
      for (;;) {
        statuses = {};
        let cursor: string | null = null;
        do {
          const res = await send("GET", `/v1/builds?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
          expect(res.status).toBe(200);
          for (const b of res.json.items) statuses[b.build_id] = b.status;
          cursor = res.json.next_cursor;
        } while (cursor);
        if (Object.values(statuses).every((s) => TERMINAL.has(s)) && Object.keys(statuses).length === BUILDS) break;
        if (process.env.BURST_VERBOSE)
          console.log(
            `${Date.now() - started} ms: ${Object.values(statuses).filter((s) => TERMINAL.has(s)).length} terminal`,
          );
        expect(
          Date.now() - started,
          `not all terminal: ${JSON.stringify(Object.values(statuses).filter((s) => !TERMINAL.has(s)).length)} open`,
        ).toBeLessThan(ALL_TERMINAL_WITHIN_MS);
        await new Promise((r) => setTimeout(r, 500));
      }
      done = true;
      await Promise.all(pollers);
      expect(pollErrors).toEqual([]);
      expect(Object.keys(statuses).sort()).toEqual([...created].sort());
      expect(Object.values(statuses).filter((s) => s !== "completed")).toEqual([]);

      const failed = outcomes.filter((o) => !o.ok);
      const retried = outcomes.filter((o) => o.firstFailure !== null);
      const slowest = Math.max(...outcomes.map((o) => o.ms));
      const over2s = outcomes.filter((o) => o.ms > 2000).length;
      console.log(
        `burst: ${BUILDS} builds, ${outcomes.length} requests in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
          `first attempts failed by the dev proxy: ${retried.length} (${[...new Set(retried.map((o) => o.firstFailure))].slice(0, 3).join(" | ")}); ` +
          `refused 429 overloaded (sent again after Retry-After): ${refusals}; ` +
          `failed after retries: ${failed.length}; slowest ${slowest.toFixed(0)} ms (with Retry-After waits); ` +
          `over 2 s: ${over2s}`,
      );
      expect(failed.map((o) => `${o.status} ${o.firstFailure}`)).toEqual([]);
      expect(outcomes.filter((o) => o.status >= 500)).toEqual([]);
    },
    ALL_TERMINAL_WITHIN_MS + 60_000,
  );
});
