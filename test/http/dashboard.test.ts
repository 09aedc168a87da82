import { describe, expect, it } from "vitest";
import indexHtml from "../../public/index.html?raw";
import mainJs from "../../public/app/main.js?raw";
import { raw } from "../helpers/api";

// The dashboard's files as public/ holds them (read by vitest; the worker serves its bundled copy).

describe("the dashboard, served by the worker from public/", () => {
  it("answers / with index.html under the headers of public/_headers, an ETag and no-cache", async () => {
    const res = await raw("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await res.text()).toBe(indexHtml);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("etag")).toMatch(/^"[\w-]{22}"$/);
  });

  it("serves the modules and styles with their types, and 304 to a matching If-None-Match", async () => {
    const js = await raw("/app/main.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await js.text()).toBe(mainJs);
    const css = await raw("/app/styles.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const etag = js.headers.get("etag") as string;
    const again = await raw("/app/main.js", { headers: { "if-none-match": `W/${etag}, "other"` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(etag);
    const changed = await raw("/app/main.js", { headers: { "if-none-match": '"stale"' } });
    expect(changed.status).toBe(200);
  });

  it("answers HEAD without a body, and an unknown file with the API's 404 problem", async () => {
    const head = await raw("/favicon.svg", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("image/svg+xml");
    expect(await head.text()).toBe("");
    const missing = await raw("/app/nope.js");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toContain("application/problem+json");
    expect(((await missing.json()) as { code: string }).code).toBe("not_found");
    expect((await raw("/_headers")).status).toBe(404);
  });

  it("leaves the API's own headers to API responses", async () => {
    const res = await raw("/health");
    expect(res.headers.get("content-security-policy")).toBe(
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(res.headers.get("cache-control")).toBe("no-store");
  });
});
