import { describe, expect, it } from "vitest";
import { caller, createBuild, eventsOf, raw, waitForStatus } from "../helpers/api";
import { eventFrames, readSse } from "../helpers/sse";

describe("GET /v1/builds/:id/events (SSE)", () => {
  it("resumes after Last-Event-ID with exactly the later events, in order, then live ones, and ends after BUILD_FINISHED", async () => {
    const c = await caller({ sub: "user_sse" });
    // 150 ms per node: the build takes ~600 ms, so the stream joins mid-build.
    const created = await createBuild(c, { metadata: { simulated_duration_ms: 150 } });
    const res = await raw(`/v1/builds/${created.build_id}/events`, {
      headers: { authorization: `Bearer ${c.token}`, "last-event-id": "2" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const { frames, ended } = await readSse(res, { timeoutMs: 10_000 });
    expect(ended).toBe(true);
    const got = eventFrames(frames);
    const history = await eventsOf(c, created.build_id);
    expect(got.map((f) => f.id)).toEqual(history.filter((e) => e.seq > 2).map((e) => e.seq));
    expect(got.map((f) => f.event)).toEqual(history.filter((e) => e.seq > 2).map((e) => e.event_type));
    expect(got[0]!.id).toBe(3);
    expect(got.map((f) => f.data.seq)).toEqual(got.map((f) => f.id));
    expect(got.filter((f) => f.event === "BUILD_FINISHED")).toHaveLength(1);
    expect(got.at(-1)!.event).toBe("CHECKPOINT_CREATED");
    expect((await waitForStatus(c, created.build_id)).status).toBe("completed");
  });

  it("replays a finished build from ?cursor= and closes", async () => {
    const c = await caller({ sub: "user_sse_cursor" });
    const created = await createBuild(c, { metadata: { simulated_duration_ms: 0 } });
    await waitForStatus(c, created.build_id);
    const history = await eventsOf(c, created.build_id);
    const res = await raw(`/v1/builds/${created.build_id}/events?cursor=20`, {
      headers: { authorization: `Bearer ${c.token}` },
    });
    const { frames, ended } = await readSse(res);
    expect(ended).toBe(true);
    expect(eventFrames(frames).map((f) => f.id)).toEqual(history.filter((e) => e.seq > 20).map((e) => e.seq));
  });

  it("closes at once when the client is already past the end of a completed build", async () => {
    const c = await caller({ sub: "user_sse_end" });
    const created = await createBuild(c, { metadata: { simulated_duration_ms: 0 } });
    await waitForStatus(c, created.build_id);
    const last = (await eventsOf(c, created.build_id)).at(-1).seq;
    const res = await raw(`/v1/builds/${created.build_id}/events`, {
      headers: { authorization: `Bearer ${c.token}`, "last-event-id": String(last) },
    });
    const { frames, ended } = await readSse(res, { timeoutMs: 3000 });
    expect(ended).toBe(true);
    expect(eventFrames(frames)).toEqual([]);
  });

  it("keeps a failed build's stream open (resumable) with heartbeat comments", async () => {
    const c = await caller({ sub: "user_sse_failed" });
    const created = await createBuild(c, {
      metadata: { simulated_duration_ms: 0, runner_results: { scanner: { status: "failed" } } },
    });
    expect((await waitForStatus(c, created.build_id)).status).toBe("failed");
    const res = await raw(`/v1/builds/${created.build_id}/events`, { headers: { authorization: `Bearer ${c.token}` } });
    const { frames, ended } = await readSse(res, {
      until: (f) => f.some((x) => x.comment === "ping"),
      timeoutMs: 5000,
    });
    expect(ended).toBe(false);
    expect(frames.some((f) => f.comment === "ping")).toBe(true);
    expect(eventFrames(frames).some((f) => f.event === "BUILD_FINISHED")).toBe(true);
  });

  it("accepts a short-lived build-scoped stream token instead of the bearer JWT", async () => {
    const c = await caller({ sub: "user_sse_token" });
    const created = await createBuild(c, { metadata: { simulated_duration_ms: 0 } });
    await waitForStatus(c, created.build_id);
    const tok = await c.request("POST", `/v1/builds/${created.build_id}/events/token`);
    expect(tok.status).toBe(201);
    expect(typeof tok.body.token).toBe("string");
    expect(Date.parse(tok.body.expires_at)).toBeGreaterThan(Date.now());
    const res = await raw(`/v1/builds/${created.build_id}/events?stream_token=${encodeURIComponent(tok.body.token)}`);
    expect(res.status).toBe(200);
    const { ended, frames } = await readSse(res);
    expect(ended).toBe(true);
    expect(eventFrames(frames)[0]!.id).toBe(1);
    // The token names every event the stream sends (the dashboard listens to exactly those).
    const names: string[] = tok.body.event_types;
    expect(names).toContain("BUILD_FINISHED");
    for (const f of eventFrames(frames)) expect(names).toContain(f.event);

    // The token is scoped to that build only.
    const other = await createBuild(c, { metadata: { simulated_duration_ms: 0 } });
    const denied = await raw(`/v1/builds/${other.build_id}/events?stream_token=${encodeURIComponent(tok.body.token)}`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get("content-type")).toBe("application/problem+json");
  });

  it("answers 401/404/403 as problem+json before the stream starts", async () => {
    // Same tenant: another member's build is 403 (another tenant's would be 404, issue 17 item 2).
    const owner = await caller({ sub: "user_sse_owner", org_id: "org_sse" });
    const created = await createBuild(owner, { metadata: { simulated_duration_ms: 0 } });
    const anon = await raw(`/v1/builds/${created.build_id}/events`);
    expect(anon.status).toBe(401);
    const stranger = await caller({ sub: "user_sse_stranger", org_id: "org_sse" });
    const forbidden = await stranger.request("GET", `/v1/builds/${created.build_id}/events`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe("build_access_denied");
    const missing = await stranger.request("GET", `/v1/builds/00000000-0000-4000-8000-000000000000/events`);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("build_not_found");
  });
});
