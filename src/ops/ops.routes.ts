/**
 * Operability routes: GET /metrics (Prometheus text, program.runtime.read). The dead-letter
 * endpoints under /v1/ops live with the builds they guard (builds/dead-letters.routes.ts).
 */
import { Hono } from "hono";
import type { AppEnv } from "../kernel/env";
import { EXPOSITION_CONTENT_TYPE } from "./metrics.exposition";
import { renderMetrics } from "./metrics.service";
import { requireCapability } from "../security/route-capability";
import { describeRoute } from "../kernel/route-meta";

const read = requireCapability("program.runtime.read");

/** Mounted at the root: `/metrics` (context and authentication are applied by the app). */
export const metricsRoutes = new Hono<AppEnv>().get(
  "/metrics",
  describeRoute({
    operationId: "metrics",
    tag: "ops",
    auth: "bearer",
    summary: "Prometheus metrics of the caller's tenant",
    description:
      "Text exposition format 0.0.4: builds by status, tick and node duration histograms, node failures by mode, " +
      "retries, fallbacks and the fallback ratio, gate failures, webhook rejections by reason, idempotent " +
      "replays, rate-limit hits, dead letters. Series of the caller's tenant plus deployment-wide ones (rejected " +
      "unsigned deliveries). Counters persist in D1 across isolates.",
    responses: {
      200: { description: "Prometheus text format", mediaType: "text/plain; version=0.0.4; charset=utf-8" },
    },
  }),
  read,
  async (c) => c.body(await renderMetrics(c.var), 200, { "content-type": EXPOSITION_CONTENT_TYPE }),
);
