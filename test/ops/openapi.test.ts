/**
 * The OpenAPI document against the real app: every route the app serves is documented and
 * nothing else is (walking `app.routes`, so a new route can never be undocumented); request
 * schemas and capabilities are the ones the routes enforce; the document is a valid 3.1 shape
 * (the third-party validation runs in scripts/check-openapi.mjs); /docs renders it.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createApp } from "../../src/http/app";
import { BuildCreateRequest } from "../../src/builds/builds.schemas";
import { openApiDocument, openApiPath, servedRoutes } from "../../src/http/openapi.document";
import { middlewareMeta } from "../../src/kernel/route-meta";
import { caller, raw } from "../helpers/api";
import { tokenFor } from "../helpers/auth";
import { checkResponse, servedDocument } from "../helpers/openapi";

const METHODS = ["get", "post", "put", "patch", "delete"];

function documentedOperations(doc: Record<string, any>): string[] {
  return Object.entries(doc.paths as Record<string, any>)
    .flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

describe("GET /openapi.json", () => {
  it("is public, OpenAPI 3.1, and documents exactly the routes the app serves", async () => {
    const res = await raw("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const doc = (await res.json()) as Record<string, any>;
    expect(doc.openapi).toBe("3.1.0");

    const served = servedRoutes(createApp())
      .map((r) => `${r.method} ${openApiPath(r.path)}`)
      .sort();
    const documented = documentedOperations(doc);
    expect(
      documented.filter((op) => !served.includes(op)),
      "documented but not served",
    ).toEqual([]);
    expect(
      served.filter((op) => !documented.includes(op)),
      "served but not documented",
    ).toEqual([]);
    expect(served.length).toBeGreaterThan(90);
    // Every route carries exactly one describeRoute: its docs live on the route itself.
    const docCounts = servedRoutes(createApp()).map((r) => [
      `${r.method} ${r.path}`,
      r.handlers.filter((h) => middlewareMeta(h)?.kind === "doc").length,
    ]);
    expect(docCounts.filter(([, n]) => n !== 1)).toEqual([]);
  });

  it("refuses to describe an app with an undocumented route", () => {
    const app = createApp();
    app.get("/v1/not-in-the-catalogue", (c) => c.json({}));
    expect(() => openApiDocument(app)).toThrow(/undocumented route GET \/v1\/not-in-the-catalogue/);
  });

  it("shows the request schemas and capabilities the routes enforce", async () => {
    const doc = await servedDocument();
    for (const route of servedRoutes(createApp())) {
      const op = doc.paths[openApiPath(route.path)][route.method.toLowerCase()];
      const metas = route.handlers.map(middlewareMeta).filter((m) => m !== undefined);
      const caps = metas.flatMap((m) => (m.kind === "capability" ? [m.capability] : []));
      expect(op["x-capabilities"] ?? [], `${route.method} ${route.path}`).toEqual(caps);
      const json = metas.find((m) => m.kind === "validation" && m.target === "json");
      expect(op.requestBody !== undefined, `${route.method} ${route.path} requestBody`).toBe(json !== undefined);
      for (const m of metas) {
        if (m.kind !== "validation" || (m.target !== "query" && m.target !== "param")) continue;
        const names = Object.keys(
          (z.toJSONSchema(m.schema, { io: "input", unrepresentable: "any" }) as any).properties ?? {},
        );
        const documented = (op.parameters ?? [])
          .filter((p: any) => p.in === (m.target === "param" ? "path" : "query"))
          .map((p: any) => p.name);
        expect(documented, `${route.method} ${route.path} ${m.target}`).toEqual(expect.arrayContaining(names));
      }
      expect(
        Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)),
        `${route.method} ${route.path} has a success response`,
      ).toBe(true);
      expect(op.responses.default).toBeDefined();
    }
  });

  it("publishes the very zod schema POST /v1/builds validates with", async () => {
    const doc = await servedDocument();
    const ref = doc.paths["/v1/builds"].post.requestBody.content["application/json"].schema.$ref as string;
    const published = doc.components.schemas[ref.split("/").pop() as string];
    const fromZod = z.toJSONSchema(BuildCreateRequest, {
      io: "input",
      unrepresentable: "any",
      target: "draft-2020-12",
    }) as any;
    expect(Object.keys(published.properties).sort()).toEqual(Object.keys(fromZod.properties).sort());
    expect(published.required ?? []).toEqual(fromZod.required ?? []);
    expect(published.properties.repo_url).toEqual(fromZod.properties.repo_url);
  });

  it("marks week aliases deprecated and documents their canonical route", async () => {
    const doc = await servedDocument();
    const alias = doc.paths["/v1/program/week7/campaigns"].post;
    expect(alias.deprecated).toBe(true);
    expect(alias.description).toContain("POST /v1/program/campaigns");
    expect(alias.responses["201"].headers.Deprecation).toBeDefined();
    expect(doc.paths["/v1/program/campaigns"].post.deprecated).toBeUndefined();
  });
});

describe("response validation helper", () => {
  it("rejects a body that contradicts the document", async () => {
    const headers = new Headers({ "content-type": "application/json" });
    await expect(checkResponse("GET", "/health", 200, headers, { status: "healthy" })).resolves.toBeUndefined();
    await expect(checkResponse("GET", "/health", 200, headers, { status: "sick" })).rejects.toThrow(/does not match/);
    await expect(checkResponse("GET", "/health", 200, headers, { status: "healthy", extra: 1 })).rejects.toThrow(
      /does not match/,
    );
    await expect(
      checkResponse("GET", "/health", 200, new Headers({ "content-type": "text/plain" }), "x"),
    ).rejects.toThrow(/not documented/);
  });

  it("validates every caller response, including problems", async () => {
    const c = await caller({ sub: "openapi_problem_user" });
    const res = await c.request("GET", "/v1/builds/00000000-0000-4000-8000-000000000000");
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("build_not_found");
  });
});

describe("GET /docs", () => {
  it("renders the reference from the document: no script, works under the API CSP", async () => {
    const res = await raw("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const page = await res.text();
    expect(page).not.toMatch(/<script|<link|https?:\/\/(?!127)/i);
    expect(page).toContain("POST /v1/builds");
    expect(page).toContain('id="schema-BuildRun"');
    expect(page).toContain("program.runtime.write");
  });

  it("needs no token, while the API does", async () => {
    expect((await raw("/docs")).status).toBe(200);
    expect((await raw("/v1/builds")).status).toBe(401);
    const token = await tokenFor({ roles: ["viewer"] });
    expect((await raw("/v1/builds", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});
