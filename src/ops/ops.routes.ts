/**
 * Operability routes: GET /metrics (Prometheus text, program.runtime.read). The dead-letter
 * endpoints under /v1/ops live with the builds they guard (builds/dead-letters.routes.ts).
 */
import { Hono } from "hono";
import type { AppEnv } from "../kernel/env";
import { EXPOSITION_CONTENT_TYPE } from "./metrics.exposition";
import { renderMetrics } from "./metrics.service";
import { requireCapability } from "../security/route-capability";

const read = requireCapability("program.runtime.read");


/** Mounted at the root: `/metrics` (context and authentication are applied by the app). */
export const metricsRoutes = new Hono<AppEnv>().get("/metrics", read, async (c) =>
  c.body(await renderMetrics(c.var), 200, { "content-type": EXPOSITION_CONTENT_TYPE }),
);
