// A fake GitHub REST API on 127.0.0.1 (random port), started by vitest.config.ts's workers pool
// (Node side) and bound as GITHUB_API_URL, so the worker's reports never leave loopback. It
// records every request it receives; tests read them back with GET /__recorded?repo=<owner/name>.
// A repository named `flaky-*` answers its first two check-run requests with 502 (retry tests);
// one named `gone-*` answers 404 (a permanent failure). Plain .mjs: the workerd test tsconfig has
// no Node types.
import http from "node:http";

/** @returns {Promise<{ url: string, close: () => Promise<void> }>} */
export async function startFakeGithub() {
  /** @type {Array<{ method: string, path: string, repo: string, headers: Record<string, string>, body: unknown }>} */
  const recorded = [];
  const failures = new Map();
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      const send = (status, body) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      const url = new URL(req.url ?? "/", "http://fake.github");
      if (req.method === "GET" && url.pathname === "/__recorded") {
        const repo = url.searchParams.get("repo");
        return send(
          200,
          recorded.filter((r) => repo === null || r.repo === repo),
        );
      }
      const m = /^\/repos\/([^/]+)\/([^/]+)\/(check-runs|code-scanning\/sarifs)$/.exec(url.pathname);
      if (req.method !== "POST" || !m) return send(404, { message: "Not Found" });
      let body = null;
      try {
        body = JSON.parse(raw);
      } catch {
        return send(400, { message: "Problems parsing JSON" });
      }
      const repo = `${m[1]}/${m[2]}`;
      recorded.push({
        method: req.method,
        path: url.pathname,
        repo,
        headers: {
          authorization: String(req.headers.authorization ?? ""),
          accept: String(req.headers.accept ?? ""),
          "x-github-api-version": String(req.headers["x-github-api-version"] ?? ""),
        },
        body,
      });
      if (!String(req.headers.authorization ?? "").startsWith("Bearer "))
        return send(401, { message: "Bad credentials" });
      if (m[2].startsWith("gone-")) return send(404, { message: "Not Found" });
      if (m[2].startsWith("flaky-")) {
        const n = (failures.get(repo) ?? 0) + 1;
        failures.set(repo, n);
        if (n <= 2) return send(502, { message: "Bad Gateway" });
      }
      if (m[3] === "check-runs")
        return send(201, { id: recorded.length, head_sha: body?.head_sha, status: "completed" });
      return send(202, { id: `sarif-${recorded.length}`, url: `${url.origin}/sarifs/${recorded.length}` });
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}
