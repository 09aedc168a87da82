/**
 * Response validation against the served OpenAPI document: `checkResponse` finds the operation of
 * a request (method + concrete path), picks the response of its status (or `default`) and
 * validates the body against that schema with a JSON Schema 2020-12 validator that runs in
 * workerd (@cfworker/json-schema). `caller().request` (api.ts) runs it on every response, so
 * every HTTP test also proves the document describes what the API answers.
 */
import { type Schema, Validator } from "@cfworker/json-schema";
import { exports } from "cloudflare:workers";

type Json = Record<string, any>;

interface Compiled {
  doc: Json;
  defs: Record<string, Schema>;
  routes: Array<{ template: string; re: RegExp; literals: number }>;
  validators: Map<string, Validator>;
}

let compiled: Promise<Compiled> | null = null;

function rewriteRefs<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', '"#/$defs/')) as T;
}

async function load(): Promise<Compiled> {
  const res = await exports.default.fetch(new Request("http://cp.test/openapi.json"));
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}: ${await res.text()}`);
  const doc = (await res.json()) as Json;
  const routes = Object.keys(doc.paths).map((template) => {
    const segments = template.split("/");
    const re = new RegExp(
      `^${segments.map((s) => (s.startsWith("{") ? "[^/]+" : s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("/")}$`,
    );
    return { template, re, literals: segments.filter((s) => !s.startsWith("{")).length };
  });
  routes.sort((a, b) => b.literals - a.literals);
  return { doc, defs: rewriteRefs(doc.components.schemas), routes, validators: new Map() };
}

/** The document as served (cached per test file). */
export async function servedDocument(): Promise<Json> {
  compiled ??= load();
  return (await compiled).doc;
}

function resolveResponse(doc: Json, r: Json | undefined): Json | undefined {
  if (r?.$ref) return doc.components.responses[String(r.$ref).split("/").pop() as string];
  return r;
}

/** The documented operation of `method path`, or undefined when the document has no such route. */
export async function operationOf(method: string, path: string): Promise<{ template: string; op: Json } | undefined> {
  compiled ??= load();
  const c = await compiled;
  const pathname = path.split("?")[0] as string;
  for (const r of c.routes) {
    if (!r.re.test(pathname)) continue;
    const op = c.doc.paths[r.template][method.toLowerCase()];
    if (op) return { template: r.template, op };
  }
  return undefined;
}

/**
 * Throws when a response contradicts the document: an undocumented status (other than through
 * `default`), a media type the response does not declare, or a JSON body that fails its schema.
 * Requests to routes the document does not have (404 tests, unknown methods) are not checked.
 */
export async function checkResponse(
  method: string,
  path: string,
  status: number,
  headers: Headers,
  body: unknown,
): Promise<void> {
  const found = await operationOf(method, path);
  if (!found) return;
  const c = (await compiled) as Compiled;
  const where = `${method} ${found.template} → ${status}`;
  const response = resolveResponse(c.doc, found.op.responses[String(status)] ?? found.op.responses.default);
  if (!response) throw new Error(`${where}: status not documented`);
  const contentType = (headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
  const content = (response.content ?? {}) as Record<string, Json>;
  if (status === 204 || Object.keys(content).length === 0) {
    if (body !== null && body !== "" && body !== undefined)
      throw new Error(`${where}: documented without a body but answered ${JSON.stringify(body).slice(0, 200)}`);
    return;
  }
  const mediaKey = Object.keys(content).find((k) => k.split(";")[0]?.trim() === contentType);
  if (!mediaKey)
    throw new Error(`${where}: content-type ${contentType} is not documented (${Object.keys(content).join(", ")})`);
  if (!contentType.endsWith("json")) return;
  const schema = content[mediaKey]?.schema as Json;
  const key = JSON.stringify(schema);
  let v = c.validators.get(key);
  if (!v) {
    v = new Validator({ ...rewriteRefs(schema), $defs: c.defs } as Schema, "2020-12", false);
    c.validators.set(key, v);
  }
  const result = v.validate(body);
  if (!result.valid) {
    const errors = result.errors
      .filter(
        (e) => e.keyword !== "$ref" && e.keyword !== "properties" && e.keyword !== "items" && e.keyword !== "anyOf",
      )
      .slice(0, 8)
      .map((e) => `${e.instanceLocation}: ${e.error}`);
    throw new Error(
      `${where}: body does not match the document:\n  ${errors.join("\n  ")}\nbody: ${JSON.stringify(body).slice(0, 600)}`,
    );
  }
}
