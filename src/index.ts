/**
 * Worker entry: the HTTP app, and every Durable Object class the runtime must see.
 */
import { createApp } from "./app";

export { BuildRunner } from "./builds/build-runner.do";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
