/**
 * Worker entry: the HTTP app, and every Durable Object class the runtime must see.
 */
import { createApp } from "./app";
import { runWatchdog } from "./builds/watchdog";

export { BuildRunner } from "./builds/build-runner.do";

const app = createApp();

export default {
  fetch: app.fetch,
  /** Cron: the build watchdog. */
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runWatchdog(env).then(() => undefined));
  },
} satisfies ExportedHandler<Env>;
