/**
 * Request schemas of the build routes (SPEC §5.1). A schema and its type share one name.
 */
import { z } from "zod";
import { BUILD_STATUSES } from "./builds.types";
import { DagNodeSchema } from "./build-runner.client";

export const DEFAULT_OBJECTIVE = "Run autonomous code quality orchestration.";

export const BuildCreateRequest = z.object({
  repo_url: z.string().trim().min(1).max(2048),
  objective: z.string().max(4000).default(DEFAULT_OBJECTIVE),
  dag: z.array(DagNodeSchema).max(200).nullable().default(null),
  metadata: z.record(z.string(), z.unknown()).default({}),
});
export type BuildCreateRequest = z.infer<typeof BuildCreateRequest>;

export const BuildIdParam = z.object({ id: z.uuid({ message: "build id must be a UUID" }) });

const limit = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);

export const ListBuildsQuery = z.object({
  status: z.enum(BUILD_STATUSES).optional(),
  limit: limit(20, 200),
  cursor: z.string().max(512).optional(),
});
export type ListBuildsQuery = z.infer<typeof ListBuildsQuery>;

export const EventsHistoryQuery = z.object({
  cursor: z.coerce.number().int().min(0).default(0),
  limit: limit(500, 2000),
});

export const EventsStreamQuery = z.object({
  cursor: z.coerce.number().int().min(0).optional(),
  stream_token: z.string().optional(),
});
