/**
 * Build control routes (SPEC §4.10, §5.1 B5–B20), mounted at /v1/builds: tasks, gates, replans,
 * debt, policy violations and checkpoints. Every mutation is one control action on the runner.
 */
import { Hono } from "hono";
import type { AppEnv } from "../kernel/env";
import { requireCapability } from "../security/route-capability";
import { validate } from "../kernel/validation";
import {
  BUILD_ACTION_ERRORS,
  BUILD_ERRORS,
  BuildIdParam,
  Checkpoint,
  CheckpointBody,
  CheckpointPage,
  CompleteTaskBody,
  DebtBody,
  DebtItem,
  DebtItemPage,
  GateBody,
  GateDecision,
  GateDecisionPage,
  GateListQuery,
  GateParam,
  PageQuery,
  PolicyViolation,
  PolicyViolationPage,
  ReasonBody,
  ReplanBody,
  ReplanDecision,
  ReplanDecisionPage,
  ReplanSuggestion,
  StartTaskBody,
  TaskListQuery,
  TaskRun,
  TaskRunPage,
  TaskRunParam,
  ViolationBody,
} from "./builds.schemas";
import * as ctl from "./control.service";
import { requestDeps } from "../kernel/request-deps";
import { describeRoute, created, ok } from "../kernel/route-meta";

const read = requireCapability("program.runtime.read");
const write = requireCapability("program.runtime.write");

export const buildControlRoutes = new Hono<AppEnv>()
  .get(
    "/:id/tasks",
    describeRoute({
      operationId: "listTasks",
      tag: "control",
      summary: "Task runs, newest first",
      responses: ok(TaskRunPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", TaskListQuery),
    async (c) => c.json(await ctl.listTasks(requestDeps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post(
    "/:id/tasks",
    describeRoute({
      operationId: "startTask",
      tag: "control",
      summary: "Start a manual task run of a node",
      responses: created(TaskRun, "Created", false),
      errors: [...BUILD_ACTION_ERRORS, "dag_node_not_found", "task_run_conflict", "build_conflict"],
    }),
    write,
    validate("param", BuildIdParam),
    validate("json", StartTaskBody),
    async (c) => c.json(await ctl.startTask(requestDeps(c), c.req.valid("param").id, c.req.valid("json").node_id), 201),
  )
  .get(
    "/:id/tasks/:task_run_id",
    describeRoute({
      operationId: "getTask",
      tag: "control",
      summary: "One task run",
      responses: ok(TaskRun),
      errors: [...BUILD_ERRORS, "task_run_not_found"],
    }),
    read,
    validate("param", TaskRunParam),
    async (c) => {
      const p = c.req.valid("param");
      return c.json(await ctl.getTask(requestDeps(c), p.id, p.task_run_id));
    },
  )
  .post(
    "/:id/tasks/:task_run_id/complete",
    describeRoute({
      operationId: "completeTask",
      tag: "control",
      summary: "Complete a manual task run",
      responses: ok(TaskRun),
      errors: [...BUILD_ACTION_ERRORS, "task_run_not_found", "task_run_conflict"],
    }),
    write,
    validate("param", TaskRunParam),
    validate("json", CompleteTaskBody),
    async (c) => {
      const p = c.req.valid("param");
      const b = c.req.valid("json");
      return c.json(
        await ctl.completeTask(requestDeps(c), p.id, p.task_run_id, { status: b.status, error: b.error ?? null }),
      );
    },
  )
  .get(
    "/:id/gates",
    describeRoute({
      operationId: "listGates",
      tag: "control",
      summary: "Gate decisions, newest first",
      responses: ok(GateDecisionPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", GateListQuery),
    async (c) => c.json(await ctl.listGates(requestDeps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post(
    "/:id/gates/:gate",
    describeRoute({
      operationId: "decideGate",
      tag: "control",
      summary: "Record a gate decision (FAIL fails, BLOCKED pauses a running build)",
      responses: created(GateDecision, "Created", false),
      errors: [...BUILD_ACTION_ERRORS, "build_conflict"],
    }),
    write,
    validate("param", GateParam),
    validate("json", GateBody),
    async (c) => {
      const p = c.req.valid("param");
      const b = c.req.valid("json");
      return c.json(
        await ctl.decideGate(requestDeps(c), p.id, p.gate, {
          status: b.status,
          reason: b.reason,
          node_id: b.node_id ?? null,
        }),
        201,
      );
    },
  )
  .get(
    "/:id/replan",
    describeRoute({
      operationId: "listReplans",
      tag: "control",
      summary: "Replan decisions, newest first",
      responses: ok(ReplanDecisionPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", PageQuery),
    async (c) => c.json(await ctl.listReplans(requestDeps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post(
    "/:id/replan",
    describeRoute({
      operationId: "replanBuild",
      tag: "control",
      summary: "Manual replan (MODIFY_DAG is validated before it mutates)",
      responses: created(ReplanDecision, "Created", false),
      errors: [...BUILD_ACTION_ERRORS, "invalid_replan", "build_conflict"],
    }),
    write,
    validate("param", BuildIdParam),
    validate("json", ReplanBody),
    async (c) => c.json(await ctl.replanBuild(requestDeps(c), c.req.valid("param").id, c.req.valid("json")), 201),
  )
  // A GET with a side effect (REPLAN_SUGGESTED), as the reference; hence the write capability.
  .get(
    "/:id/replan/suggest",
    describeRoute({
      operationId: "suggestReplan",
      tag: "control",
      summary: "Debt-triage suggestion (records REPLAN_SUGGESTED, hence the write capability)",
      responses: ok(ReplanSuggestion),
      errors: BUILD_ACTION_ERRORS,
    }),
    write,
    validate("param", BuildIdParam),
    async (c) => c.json(await ctl.suggestReplan(requestDeps(c), c.req.valid("param").id)),
  )
  .post(
    "/:id/replan/suggest/apply",
    describeRoute({
      operationId: "applyReplanSuggestion",
      tag: "control",
      summary: "Apply the debt-triage suggestion",
      requestName: "ReasonRequest",
      responses: created(ReplanDecision, "Created", false),
      errors: [...BUILD_ACTION_ERRORS, "invalid_replan", "build_conflict"],
    }),
    write,
    validate("param", BuildIdParam),
    validate("json", ReasonBody),
    async (c) =>
      c.json(await ctl.applyReplanSuggestion(requestDeps(c), c.req.valid("param").id, c.req.valid("json").reason), 201),
  )
  .get(
    "/:id/debt",
    describeRoute({
      operationId: "listDebt",
      tag: "control",
      summary: "Debt items, newest first",
      responses: ok(DebtItemPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", PageQuery),
    async (c) => c.json(await ctl.listDebts(requestDeps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post(
    "/:id/debt",
    describeRoute({
      operationId: "recordDebt",
      tag: "control",
      summary: "Record a debt item",
      responses: created(DebtItem, "Created", false),
      errors: BUILD_ACTION_ERRORS,
    }),
    write,
    validate("param", BuildIdParam),
    validate("json", DebtBody),
    async (c) => c.json(await ctl.recordDebt(requestDeps(c), c.req.valid("param").id, c.req.valid("json")), 201),
  )
  .get(
    "/:id/policy-violations",
    describeRoute({
      operationId: "listPolicyViolations",
      tag: "control",
      summary: "Policy violations, newest first",
      responses: ok(PolicyViolationPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", PageQuery),
    async (c) => c.json(await ctl.listViolations(requestDeps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post(
    "/:id/policy-violations",
    describeRoute({
      operationId: "recordPolicyViolation",
      tag: "control",
      summary: "Record a policy violation (a blocking one fails a running build)",
      responses: created(PolicyViolation, "Created", false),
      errors: BUILD_ACTION_ERRORS,
    }),
    write,
    validate("param", BuildIdParam),
    validate("json", ViolationBody),
    async (c) =>
      c.json(await ctl.recordPolicyViolation(requestDeps(c), c.req.valid("param").id, c.req.valid("json")), 201),
  )
  .get(
    "/:id/checkpoints",
    describeRoute({
      operationId: "listCheckpoints",
      tag: "control",
      summary: "Checkpoints, chronological",
      responses: ok(CheckpointPage),
      errors: BUILD_ERRORS,
    }),
    read,
    validate("param", BuildIdParam),
    validate("query", PageQuery),
    async (c) => c.json(await ctl.listCheckpoints(requestDeps(c), c.req.valid("param").id, c.req.valid("query"))),
  )
  .post(
    "/:id/checkpoints",
    describeRoute({
      operationId: "createCheckpoint",
      tag: "control",
      summary: "Create a checkpoint",
      responses: created(Checkpoint, "Created", false),
      errors: BUILD_ACTION_ERRORS,
    }),
    write,
    validate("param", BuildIdParam),
    validate("json", CheckpointBody),
    async (c) => c.json(await ctl.createCheckpoint(requestDeps(c), c.req.valid("param").id, c.req.valid("json")), 201),
  );
