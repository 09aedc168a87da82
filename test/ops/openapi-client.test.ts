/**
 * A client generated from the document (openapi-typescript → test/ops/generated/openapi.ts, used
 * through openapi-fetch) creates and reads a build against the real worker. The calls are
 * type-checked against the generated types by `npm run typecheck`, so a document that lies about
 * a path, a parameter or a body shape fails to compile here.
 */
import { exports } from "cloudflare:workers";
import createClient from "openapi-fetch";
import { describe, expect, it } from "vitest";
import { tokenFor } from "../helpers/auth";
import type { components, paths } from "./generated/openapi";

type BuildRun = components["schemas"]["BuildRun"];

async function client(sub: string) {
  const token = await tokenFor({ sub, roles: ["operator"] });
  return createClient<paths>({
    baseUrl: "http://cp.test",
    headers: { authorization: `Bearer ${token}` },
    fetch: (request: Request) => exports.default.fetch(request),
  });
}

describe("generated client (openapi-typescript + openapi-fetch)", () => {
  it("creates a build and reads it back", async () => {
    const api = await client("generated_client_user");
    const created = await api.POST("/v1/builds", {
      body: { repo_url: "https://github.com/acme/generated-client", metadata: { simulated_duration_ms: 0 } },
    });
    expect(created.response.status).toBe(201);
    expect(created.error).toBeUndefined();
    const build = created.data as BuildRun;
    expect(build.repo_url).toBe("https://github.com/acme/generated-client");
    expect(created.response.headers.get("location")).toBe(`/v1/builds/${build.build_id}`);

    let read: BuildRun | undefined;
    for (let i = 0; i < 200; i++) {
      const res = await api.GET("/v1/builds/{id}", { params: { path: { id: build.build_id } } });
      expect(res.response.status).toBe(200);
      read = res.data;
      if (read?.status === "completed") break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(read?.build_id).toBe(build.build_id);
    expect(read?.status).toBe("completed");
    expect(read?.progress.nodes_done).toBe(read?.progress.nodes_total);

    const page = await api.GET("/v1/builds", { params: { query: { status: "completed", limit: 5 } } });
    expect(page.data?.items.map((b) => b.build_id)).toContain(build.build_id);
  });

  it("surfaces problems as typed errors", async () => {
    const api = await client("generated_client_other");
    const res = await api.GET("/v1/builds/{id}", { params: { path: { id: "00000000-0000-4000-8000-000000000000" } } });
    expect(res.response.status).toBe(404);
    expect(res.error?.code).toBe("build_not_found");
    expect(res.error?.request_id).toBe(res.response.headers.get("x-request-id"));
  });
});
