/**
 * Worker entry: the HTTP app, and every Durable Object class the runtime must see.
 */
import { createApp } from "./app";
import { runWatchdog } from "./builds/watchdog";
import { onBuildFinished } from "./builds/build-hooks";
import { ingestFinishedBuild } from "./program/campaigns.service";

// Campaign builds become campaign runs when they finish (program plane, DESIGN §2).
onBuildFinished(ingestFinishedBuild);

export { BuildRunner } from "./builds/build-runner.do";
export { DeliveryWriter } from "./security/delivery-writer.do";
export { RateLimiter } from "./security/rate-limiter.do";
export { ReplayGuard } from "./security/replay-guard.do";

const app = createApp();

export default {
  fetch: app.fetch,
  /** Cron: the build watchdog. */
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runWatchdog(env).then(() => undefined));
  },
} satisfies ExportedHandler<Env>;
