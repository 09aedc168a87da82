// @ts-check
/**
 * A loopback HTTP proxy between the browser and wrangler dev that can cut the network: `drop()`
 * destroys every open connection (the browser sees the SSE stream break mid-flight) and
 * `block(ms)` refuses new connections for a while (reconnects fail until it ends). It records
 * each request's method, path and headers, so a test can see the `Last-Event-ID` of a reconnect.
 */
import http from "node:http";

/**
 * @typedef {{ method: string, path: string, headers: http.IncomingHttpHeaders, at: number }} LoggedRequest
 */

/**
 * @param {string} target base URL of the upstream, e.g. http://127.0.0.1:8787
 * @returns {Promise<{ url: string, requests: LoggedRequest[], drop: () => number, block: (ms: number) => void, close: () => Promise<void> }>}
 */
export async function startProxy(target) {
  const upstream = new URL(target);
  /** @type {Set<import("node:net").Socket>} */
  const sockets = new Set();
  /** @type {LoggedRequest[]} */
  const requests = [];
  let blockedUntil = 0;

  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers, at: Date.now() });
    const out = http.request(
      { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        res.on("close", () => up.destroy());
      },
    );
    out.on("error", () => res.destroy());
    req.pipe(out);
  });
  server.on("connection", (socket) => {
    if (Date.now() < blockedUntil) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());

  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    drop() {
      const n = sockets.size;
      for (const s of sockets) s.destroy();
      sockets.clear();
      return n;
    },
    block(ms) {
      blockedUntil = Date.now() + ms;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve(undefined));
      }),
  };
}
