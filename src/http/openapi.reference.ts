/**
 * GET /docs: a readable API reference rendered on the server from the OpenAPI document. Plain
 * semantic HTML — no script, no stylesheet, nothing fetched — so it works offline and under the
 * API's `default-src 'none'` Content-Security-Policy. Grouped by tag; each operation lists its
 * capability, parameters, request body and responses, schemas linked to their definitions.
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

type Json = Record<string, unknown>;
type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The little markdown the document's texts use: `code` and **bold**, everything else escaped. */
function md(text: unknown): Html {
  return raw(
    escapeHtml(String(text ?? ""))
      .replace(/`([^`]+)`/g, "<code>$1</code>")
      .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>"),
  );
}

/** Follows a local `$ref` (`#/components/parameters/…`, `#/components/responses/…`). */
function deref(doc: Json, value: unknown): Json {
  const ref = (value as Json | undefined)?.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#/")) return (value ?? {}) as Json;
  return ref
    .slice(2)
    .split("/")
    .reduce<Json>((node, key) => (node[key] ?? {}) as Json, doc);
}

function refName(schema: unknown): string | undefined {
  const ref = (schema as Json | undefined)?.$ref;
  return typeof ref === "string" ? ref.split("/").pop() : undefined;
}

function schemaLink(schema: unknown): Html {
  const name = refName(schema);
  if (name) return html`<a href="#schema-${name}"><code>${name}</code></a>`;
  return html`<code>${JSON.stringify(schema)}</code>`;
}

function anchor(method: string, path: string): string {
  return `${method}-${path.replace(/[^A-Za-z0-9]+/g, "-")}`;
}

const PARAMETERS_HEAD = raw(
  "<table><caption>Parameters</caption><thead><tr>" +
    "<th>name</th><th>in</th><th>required</th><th>schema</th><th>description</th></tr></thead><tbody>",
);

function parameterRow(p: Json): Html {
  const name = html`<td><code>${String(p.name)}</code></td>`;
  const schema = html`<td><code>${JSON.stringify(p.schema)}</code></td>`;
  const required = html`<td>${p.required ? "yes" : "no"}</td>`;
  return html`<tr>${name}<td>${String(p.in)}</td>${required}${schema}<td>${md(p.description)}</td></tr>`;
}

function responseRow(status: string, r: Json): Html {
  const content = Object.entries((r.content ?? {}) as Record<string, Json>);
  const bodies = content.map(([type, c]) => html`<code>${type}</code> ${schemaLink(c.schema)} `);
  return html`<tr><td>${status}</td><td>${md(r.description)}</td><td>${bodies}</td></tr>`;
}

function operationHtml(doc: Json, method: string, path: string, op: Json): Html {
  const params = ((op.parameters ?? []) as Json[]).map((p) => deref(doc, p));
  const body = (
    ((op.requestBody as Json | undefined)?.content as Json | undefined)?.["application/json"] as Json | undefined
  )?.schema;
  const responses = Object.entries((op.responses ?? {}) as Record<string, Json>).map(
    ([status, r]) => [status, deref(doc, r)] as const,
  );
  const caps = (op["x-capabilities"] ?? []) as string[];
  const security = (op.security ?? []) as Json[];
  const auth =
    security.length === 0 ? "none (public or signed)" : security.map((s) => Object.keys(s).join("")).join(" or ");
  const capability = caps.length ? html` · capability <code>${caps.join(" + ")}</code>` : "";
  return html`<section id="${anchor(method, path)}">
<h3><code>${method.toUpperCase()} ${path}</code>${op.deprecated ? html` <em>(deprecated)</em>` : ""}</h3>
<p>${md(op.summary)}</p>
${
  op.description
    ? String(op.description)
        .split("\n\n")
        .map((para) => html`<p>${md(para)}</p>`)
    : ""
}
<p>Auth: ${auth}${capability}</p>
${
  params.length
    ? html`${PARAMETERS_HEAD}
${params.map(parameterRow)}
</tbody></table>`
    : ""
}
${body ? html`<p>Request body (<code>application/json</code>): ${schemaLink(body)}</p>` : ""}
<table><caption>Responses</caption><thead><tr><th>status</th><th>description</th><th>body</th></tr></thead><tbody>
${responses.map(([status, r]) => responseRow(status, r))}
</tbody></table>
</section>`;
}

const HEAD_META = raw('<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">');

function tagItem(t: Json): Html {
  return html`<li><a href="#tag-${String(t.name)}">${String(t.name)}</a> — ${String(t.description ?? "")}</li>`;
}

function operationItem(o: { method: string; path: string; op: Json }): Html {
  const label = html`<code>${o.method.toUpperCase()} ${o.path}</code>`;
  return html`<li><a href="#${anchor(o.method, o.path)}">${label}</a> — ${md(o.op.summary)}</li>`;
}

function schemaSection([name, s]: [string, unknown]): Html {
  return html`<section id="schema-${name}"><h3><code>${name}</code></h3><pre>${raw(escapeJson(s))}</pre></section>`;
}

/** The reference page for `doc` (an OpenAPI 3.1 document as produced by openapi.document.ts). */
export function renderReference(doc: Json): Html {
  const info = doc.info as Json;
  const paths = doc.paths as Record<string, Json>;
  const tags = (doc.tags ?? []) as Json[];
  const schemas = ((doc.components as Json).schemas ?? {}) as Record<string, unknown>;
  const ops = Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m] !== undefined).map((m) => ({ path, method: m, op: item[m] as Json })),
  );
  return html`<!doctype html>
<html lang="en">
<head>${HEAD_META}<title>${String(info.title)} — API reference</title></head>
<body>
<header><h1>${String(info.title)} <small>v${String(info.version)}</small></h1>
<p>OpenAPI 3.1 document: <a href="/openapi.json"><code>/openapi.json</code></a> · dashboard: <a href="/">/</a></p>
${String(info.description ?? "")
  .split("\n\n")
  .map((block) =>
    block.startsWith("- ")
      ? html`<ul>${block.split("\n").map((line) => html`<li>${md(line.replace(/^- /, ""))}</li>`)}</ul>`
      : html`<p>${md(block)}</p>`,
  )}
<nav><h2>Contents</h2><ul>
${tags.map(tagItem)}
<li><a href="#schemas">Schemas</a></li>
</ul></nav></header>
<main>
${tags.map((t) => {
  const mine = ops.filter((o) => ((o.op.tags ?? []) as string[]).includes(String(t.name)));
  return html`<article id="tag-${String(t.name)}"><h2>${String(t.name)}</h2><p>${String(t.description ?? "")}</p>
<ul>${mine.map(operationItem)}</ul>
${mine.map((o) => operationHtml(doc, o.method, o.path, o.op))}</article>`;
})}
<article id="schemas"><h2>Schemas</h2>
${Object.entries(schemas).map(schemaSection)}
</article>
</main>
</body>
</html>`;
}

function escapeJson(value: unknown): string {
  return escapeHtml(JSON.stringify(value, null, 2));
}
