// What the global setup hands to the e2e files through vitest's provide/inject.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the control plane under test (wrangler dev on loopback). */
    baseUrl: string;
    /** PLATFORM_WEBHOOK_SIGNING_SECRET of that control plane (to sign test deliveries). */
    platformWebhookSecret: string;
  }
}
