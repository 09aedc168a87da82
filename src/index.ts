/**
 * Worker entry: the HTTP app, and every Durable Object class the runtime must see.
 */
import { createApp } from "./http/app";
import { devMigrations } from "./dev/dev-migrations";
import { runWatchdog } from "./builds/watchdog";
import { onBuildCreate, onBuildFinished } from "./builds/build-hooks";
import { ingestFinishedBuild } from "./program/campaigns.service";
import { profileFindingThresholds } from "./program/policy.service";
import { runCampaignSchedules } from "./program/schedules.service";
import { runAlerts } from "./program/alerts.service";
import { drainGithubReports, reportFinishedBuild } from "./github/github.reports";

// Campaign builds become campaign runs when they finish (program plane, DESIGN §2).
onBuildFinished(ingestFinishedBuild);
// GitHub-triggered builds report a check run (and SARIF) through the reports outbox (src/github).
onBuildFinished(reportFinishedBuild);
// A build naming a policy profile gets the profile's finding thresholds (issue 16).
onBuildCreate(profileFindingThresholds);

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
   * Cron, every minute (in production; `npm start` triggers it every minute through wrangler's
   * --test-scheduled route, see scripts/lib/watchdog-ticker.mjs): the build watchdog, then the
   * GitHub reports that are due (retries with backoff; src/github), the campaign schedules at the
   * invocation's scheduled time (due executions, dispatch, frozen reports), then the control
   * plane's alerts (evaluate, notify, retry). Awaited, so the invocation ends when its work is
   * done; one failing part does not stop the others.
   */
  async scheduled(controller, env, _ctx) {
    const results: PromiseSettledResult<unknown>[] = [
      ...(await Promise.allSettled([runWatchdog(env), drainGithubReports(env)])),
      ...(await Promise.allSettled([runCampaignSchedules(env, controller.scheduledTime)])),
      // After the schedules: an execution frozen in this invocation is judged for drift now.
      ...(await Promise.allSettled([runAlerts(env, controller.scheduledTime)])),
    ];
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  },
} satisfies ExportedHandler<Env>;
