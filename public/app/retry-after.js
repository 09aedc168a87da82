// @ts-check
/**
 * How long a client waits before sending again a request the control plane refused as
 * overloaded (429 `overloaded`): its `Retry-After-Ms` (else `Retry-After` seconds), capped at
 * 30 s, plus up to 100 ms of jitter so refused clients do not come back in step. One rule for
 * every client of the project: the dashboard (api.js), the benches and the node suite
 * (scripts/lib/bench-load.mjs).
 */
export const retryAfterMs = (/** @type {Headers} */ headers) => {
  const ms = Number(headers.get("retry-after-ms"));
  const wait = Number.isFinite(ms) && ms > 0 ? ms : Math.max(1, Number(headers.get("retry-after")) || 1) * 1000;
  return Math.min(30_000, wait) + Math.random() * 100;
};
