/**
 * The build watchdog's cron, locally. In production Cloudflare runs the worker's `scheduled`
 * handler every minute (wrangler.toml `[triggers] crons`); `wrangler dev` fires no crons, and its
 * own trigger URL `/cdn-cgi/handler/scheduled` answered 500 while the worker had `[assets]` (until
 * stop 20: miniflare handed the event to the assets router worker in front of ours; docs/DECISIONS.md
 * "The watchdog under wrangler dev"). So `npm start` runs wrangler dev with
 * `--test-scheduled` — wrangler then wraps our worker with a middleware that runs `scheduled` for
 * `GET /__scheduled` (development only; never part of a deployed bundle) — and this ticker calls
 * it every period, as the production cron does.
 */

/** The path `wrangler dev --test-scheduled` serves; `cron` as the production trigger has it. */
export const SCHEDULED_PATH = `/__scheduled?cron=${encodeURIComponent("* * * * *")}`;

/**
 * Runs the scheduled handler of the worker at `url` once. Resolves to whether it answered 200
 * (wrangler's middleware awaits the handler, so the watchdog has run when this resolves).
 * @param {string} url base URL of `wrangler dev --test-scheduled`
 * @param {number} [timeoutMs]
 */
export async function triggerScheduled(url, timeoutMs = 30_000) {
  const res = await fetch(`${url}${SCHEDULED_PATH}`, { signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer();
  return res.status === 200;
}

/**
 * Triggers the scheduled handler every `periodMs` until stopped. A failed trigger (the server is
 * restarting, busy) is reported through `onError` and retried at the next period.
 * @param {{ url: string, periodMs?: number, onError?: (err: unknown) => void }} options
 * @returns {{ stop: () => void }}
 */
export function startWatchdogTicker({ url, periodMs = 60_000, onError = () => {} }) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    try {
      if (!(await triggerScheduled(url, Math.max(1_000, Math.min(periodMs, 30_000)))))
        onError(new Error("scheduled handler did not answer 200"));
    } catch (err) {
      onError(err);
    } finally {
      if (!stopped) timer = setTimeout(tick, periodMs);
    }
  };
  timer = setTimeout(tick, periodMs);
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
