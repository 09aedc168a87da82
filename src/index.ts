/**
 * Worker entry: the HTTP app, and every Durable Object class the runtime must see.
 */
import { createApp } from "./http/app";
import { devMigrations } from "./dev/dev-migrations";
import { runWatchdog } from "./builds/watchdog";
import { onBuildFinished } from "./builds/build-hooks";
import { ingestFinishedBuild } from "./program/campaigns.service";
import { drainGithubReports, reportFinishedBuild } from "./github/github.reports";

// Campaign builds become campaign runs when they finish (program plane, DESIGN §2).
onBuildFinished(ingestFinishedBuild);
// GitHub-triggered builds report a check run (and SARIF) through the reports outbox (src/github).
onBuildFinished(reportFinishedBuild);

export { BuildRunner } from "./builds/build-runner.do";
export { DeliveryWriter } from "./security/delivery-writer.do";
export { RateLimiter } from "./security/rate-limiter.do";
export { ReplayGuard } from "./security/replay-guard.do";

const app = createApp();

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    // Local development only: the launcher's migrations, applied before the first request (src/dev).
    const migrating = devMigrations(env);
    return migrating ? migrating.then(() => app.fetch(request, env, ctx)) : app.fetch(request, env, ctx);
  },
  /**
   * Cron: the build watchdog (every minute in production; `npm start` triggers it every minute
   * through wrangler's --test-scheduled route, see scripts/lib/watchdog-ticker.mjs). Awaited, so
   * the invocation ends when every stale build has been re-armed.
   */
  async scheduled(_controller, env, _ctx) {
    // The watchdog, and the GitHub reports that are due (retries with backoff; src/github).
    const [watchdog, reports] = await Promise.allSettled([runWatchdog(env), drainGithubReports(env)]);
    if (reports.status === "rejected")
      console.error(
        JSON.stringify({ level: "error", msg: "github_reports_drain_failed", error: String(reports.reason) }),
      );
    if (watchdog.status === "rejected") throw watchdog.reason;
  },
} satisfies ExportedHandler<Env>;
