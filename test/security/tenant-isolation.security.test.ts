/**
 * Issue 17 item 2: a build is visible only inside its tenant — same tenant AND (creator OR tenant
 * admin). A principal of another tenant, even with the creator's `sub`, gets 404 build_not_found
 * on every build route (read, history, stream, stream token, checkpoint, abort), never 403, and
 * nothing changes.
 */
import { describe, expect, it } from "vitest";
import { caller, createBuild, eventsOf, raw } from "../helpers/api";

describe("cross-tenant build access", () => {
  it("the creator's sub in another tenant cannot read, stream, checkpoint or abort the build", async () => {
    const owner = await caller({ sub: "shared_sub", org_id: "org_victim" });
    // Long simulated nodes: the build is still running when the intruder tries to abort it.
    const build = await createBuild(owner, { metadata: { simulated_duration_ms: 60_000 } });
    const id = build.build_id as string;
    const intruder = await caller({ sub: "shared_sub", org_id: "org_intruder" });
    const attempts: Array<[string, string, unknown?]> = [
      ["GET", `/v1/builds/${id}`],
      ["GET", `/v1/builds/${id}/events/history?cursor=0&limit=10`],
      ["GET", `/v1/builds/${id}/events`],
      ["POST", `/v1/builds/${id}/events/token`],
      ["POST", `/v1/builds/${id}/checkpoints`, { reason: "intruder" }],
      ["POST", `/v1/builds/${id}/abort`, { reason: "intruder" }],
      ["GET", `/v1/builds/${id}/tasks`],
      [
        "POST",
        "/v1/program/idempotent-checkpoints",
        { build_id: id, idempotency_key: "k-intruder", reason: "intruder" },
      ],
    ];
    for (const [method, path, body] of attempts) {
      const res = await intruder.request(method, path, body);
      expect({ method, path, status: res.status, code: res.body?.code }).toEqual({
        method,
        path,
        status: 404,
        code: "build_not_found",
      });
    }
    // A tenant admin of the other tenant sees nothing either.
    const otherAdmin = await caller({ sub: "admin_intruder", org_id: "org_intruder", roles: ["admin"] });
    expect((await otherAdmin.request("GET", `/v1/builds/${id}`)).status).toBe(404);
    expect((await intruder.request("GET", "/v1/builds")).body.items.some((b: any) => b.build_id === id)).toBe(false);

    // Nothing happened to the build.
    const after = await owner.request("GET", `/v1/builds/${id}`);
    expect(after.status).toBe(200);
    expect(after.body.status).not.toBe("aborted");
    const events = await eventsOf(owner, id);
    expect(JSON.stringify(events)).not.toContain("intruder");
    await owner.request("POST", `/v1/builds/${id}/abort`, { reason: "cleanup" });
  });

  it("same tenant: the creator and the tenant admin see it, another member gets 403", async () => {
    const owner = await caller({ sub: "iso_owner", org_id: "org_iso" });
    const build = await createBuild(owner, { metadata: { simulated_duration_ms: 0 } });
    const admin = await caller({ sub: "iso_admin", org_id: "org_iso", roles: ["admin"] });
    const member = await caller({ sub: "iso_member", org_id: "org_iso" });
    expect((await owner.request("GET", `/v1/builds/${build.build_id}`)).status).toBe(200);
    expect((await admin.request("GET", `/v1/builds/${build.build_id}`)).status).toBe(200);
    const denied = await member.request("GET", `/v1/builds/${build.build_id}`);
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe("build_access_denied");
    expect((await raw(`/v1/builds/${build.build_id}`)).status).toBe(401);
  });
});
