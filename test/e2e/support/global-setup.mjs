// @ts-check
/**
 * Global setup of the browser suite: fails loudly when Chromium is missing, starts one control
 * plane (wrangler dev, development environment, fresh state) for all e2e files, and hands its URL
 * and secrets to the tests via `inject()`.
 */
import { assertChromium } from "./browser.mjs";
import { startControlPlane } from "./server.mjs";

/** @param {{ provide: (key: string, value: unknown) => void }} project */
export default async function setup(project) {
  assertChromium();
  const cp = await startControlPlane();
  project.provide("baseUrl", cp.url);
  project.provide("platformWebhookSecret", cp.secrets.platformWebhook);
  let stopping = false;
  // If the control plane dies mid-run every later test fails with ECONNREFUSED: say why, once.
  void cp.exited.then(({ code, signal }) => {
    if (!stopping)
      console.error(
        `\nwrangler dev exited during the e2e run (${signal ?? `exit ${code}`}). Output tail:\n${cp.output().slice(-4000)}\n`,
      );
  });
  return async () => {
    stopping = true;
    await cp.stop();
  };
}
