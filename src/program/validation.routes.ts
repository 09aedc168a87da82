/**
 * Stateless validation helpers (SPEC §5.3) and the prompt-contract registry (SPEC §5.1 B25):
 * authentication only, no capability. `plan` expands targets into run specs; `report` applies the
 * campaign report maths (campaign-report.ts) to runs the client supplies.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../kernel/env";
import { isoTimestamp } from "../lib/ids";
import { validate } from "../kernel/validation";
import { BETA_DEFAULT, buildReport, planRunId } from "./campaign-report";
import {
  BenchmarkPlan,
  PromptContractPage,
  ThresholdProfileInput,
  ValidationReport,
  ValidationRunRequest,
} from "./program.schemas";
import { describeRoute, ok } from "../kernel/route-meta";

const runs = z.number().int().min(1).max(25).default(3);
const PlanRequest = z.object({
  targets: z
    .array(z.object({ repo: z.string().trim().min(1).max(2048), language: z.string().trim().max(64), runs }))
    .max(200)
    .default([]),
  default_runs: runs,
});
const ReportRequest = z.object({
  runs: z.array(ValidationRunRequest).max(10_000).default([]),
  // Any name may be used here: nothing is stored, so no profile can pose as the default.
  profile: ThresholdProfileInput.extend({ profile_name: z.string().trim().min(1).max(64) }).optional(),
});

const CONTRACT = { version: "v0.1.0", owner: "team" } as const;
export const PROMPT_CONTRACTS = [
  {
    name: "build_planner",
    ...CONTRACT,
    description: "Expands build objective into a DAG plan",
    input_schema_ref: "BuildCreateRequest",
    output_schema_ref: "DagNode[]",
  },
  {
    name: "task_executor",
    ...CONTRACT,
    description: "Runs one DAG node with deterministic guardrails",
    input_schema_ref: "DagNode + BuildRun",
    output_schema_ref: "TaskRun",
  },
  {
    name: "gate_reviewer",
    ...CONTRACT,
    description: "Validates merge/test/policy gates",
    input_schema_ref: "TaskRun + BuildRun",
    output_schema_ref: "PolicyViolation[]",
  },
  {
    name: "replanner",
    ...CONTRACT,
    description: "Selects CONTINUE/MODIFY_DAG/REDUCE_SCOPE/ABORT action",
    input_schema_ref: "BuildRun + failures",
    output_schema_ref: "ReplanDecision",
  },
] as const;

export const validationRoutes = new Hono<AppEnv>()
  .post(
    "/validation/plan",
    describeRoute({
      operationId: "validationPlan",
      tag: "validation",
      summary: "Expand targets into run specs",
      responses: ok(BenchmarkPlan),
    }),
    validate("json", PlanRequest),
    (c) => {
      const body = c.req.valid("json");
      const specs = body.targets.flatMap((t) =>
        Array.from({ length: t.runs > 0 ? t.runs : body.default_runs }, (_, i) => ({
          repo: t.repo,
          language: t.language,
          run_id: planRunId(t.repo, i + 1),
        })),
      );
      return c.json({ target_count: body.targets.length, run_count: specs.length, runs: specs });
    },
  )
  .post(
    "/validation/report",
    describeRoute({
      operationId: "validationReport",
      tag: "validation",
      summary: "Report maths over client-supplied runs",
      responses: ok(ValidationReport),
    }),
    validate("json", ReportRequest),
    (c) => {
      const body = c.req.valid("json");
      return c.json(
        buildReport({ runs: body.runs, profile: body.profile ?? BETA_DEFAULT, generatedAt: isoTimestamp(Date.now()) }),
      );
    },
  )
  .get(
    "/prompt-contracts",
    describeRoute({
      operationId: "listPromptContracts",
      tag: "validation",
      summary: "The prompt-contract registry",
      responses: ok(PromptContractPage),
    }),
    (c) => c.json({ items: PROMPT_CONTRACTS, next_cursor: null }),
  );
