/**
 * BuildRunner — one Durable Object per build (id = idFromName(build_id)).
 * Responsibilities: single writer of its build's D1 rows (lease with epoch, every batch fenced),
 * the runtime tick loop as `alarm()`, control actions, event seq allocation, live SSE fan-out, the
 * build-finished announcement, and its GET view kept from its own commits (exact: every write to
 * the view's rows is one of this object's commits; build-view.ts applies each). Decisions live in
 * the pure run-machine / control-actions; this file loads state, applies them, persists,
 * publishes and re-arms.
 */
import { DurableObject } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { type Db, loadConfig } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { isoTimestamp, newId, parseTimestamp } from "../lib/ids";
import { Mutex } from "../lib/mutex";
import { announceBuildFinished } from "./build-hooks";
import { type ControlAction, ControlActionSchema, type CreateInputRpc, CreateInputSchema, type RpcResult } from "./build-runner.client";
import { type BuildView, applyDraft, viewFromRow } from "./build-view";
import { StaleLeaseError, acquireLease, commitDraft, countFindings, getBuildRow, getBuildView, listEvents, loadBuildState, writeLease } from "./builds.repo";
import { CommitFaults } from "./commit-faults";
import { applyControl, controlAudit } from "./control-actions";
import { type AuditActor, AuditActorSchema } from "../audit/audit";
import { EventStreamHub } from "./event-stream";
import { type BuildState, Draft, type TaskRunState, type TickReport, agentOf, createBuild, httpFailure, runningRuns, tick } from "./run-machine";
import { DispatchError, buildDispatch, sendDispatch } from "./runner-dispatch";
import { RunnerMessage, resultOfMessage } from "./runner-protocol";
import { faultRoll } from "./simulated-runner";
import { configuredLogLevel, logLine } from "../kernel/log";
import { type RedriveOutcome, guardedAlarm, isDeadLettered, markPoisoned, redriveRunner } from "./dead-letters.guard";

/** Where the runner keeps its build id (also read by src/builds/dead-letters.guard.ts). */
const BUILD_ID_KEY = "build_id";
/** Set from the start of a create until its D1 commit is known to have landed. */
const PENDING_CREATE_KEY = "create_pending";
/** When the alarm of an interrupted create settles it (a live create clears the mark long before). */
const CREATE_RESOLVE_AFTER_MS = 5_000;

export class BuildRunner extends DurableObject<Env> {
  private state: BuildState | null = null;
  private epoch: number | null = null;
  private readonly owner = `build-runner-${newId()}`;
  private readonly mutex = new Mutex();
  private readonly hub = new EventStreamHub();
  /** Ticks attempted by this instance (the fault hook's roll varies with it). */
  private ticks = 0;

  private drizzleDb: Db | null = null;
  private commitFaults: CommitFaults | null = null;
  /** GET /v1/builds/{id}'s view of the last commit (build-view.ts); `commits` tells a load that raced one. */
  private cachedView: BuildView | null = null;
  private commits = 0;
  /** A commit failed with an unknown outcome: live subscribers must catch up from D1. */
  private resyncStreams = false;
  /** Findings stored for this build, counted from its commits (null: not known since a restart). */
  private findingsTotal: number | null = null;

  /** One drizzle instance per DO instance: building it extracts the relational config of every table (bench profile). */
  private get db(): Db {
    this.drizzleDb ??= drizzle(this.env.DB);
    return this.drizzleDb;
  }

  private get config() {
    return loadConfig(this.env);
  }

  /** The development/test-only D1 fault hook (src/builds/commit-faults.ts); inert without FAULT_INJECTION. */
  private get faults(): CommitFaults {
    this.commitFaults ??= new CommitFaults(this.config.FAULT_INJECTION, this.ctx.storage);
    return this.commitFaults;
  }

  /**
   * Creates the build (idempotent per DO: a second create of the same id is a no-op). Crash-safe
   * at every step: the runner first stores its build id with a pending-create mark and arms a
   * resolve alarm (one atomic storage write), then commits the build to D1, then clears the mark
   * and ticks. Interrupted before the D1 commit, the alarm finds no build and cleans up (the
   * build never existed: the client got no 201); after it, the alarm finds the build and runs it.
   */
  async create(raw: CreateInputRpc): Promise<RpcResult<{ build_id: string }>> {
    const input = CreateInputSchema.parse(raw);
    return this.mutex.run(async () => {
      const stored = await this.ctx.storage.get<string>(BUILD_ID_KEY);
      if (stored && !(await this.ctx.storage.get<boolean>(PENDING_CREATE_KEY))) return { ok: true, value: { build_id: input.build_id } };
      const now = Date.now();
      if (!stored) {
        // Issued together (one coalesced storage write), and durable before D1 hears of the build.
        await Promise.all([
          this.ctx.storage.put({ [BUILD_ID_KEY]: input.build_id, [PENDING_CREATE_KEY]: true }),
          this.ctx.storage.setAlarm(now + CREATE_RESOLVE_AFTER_MS),
        ]);
        await markPoisoned(this.ctx.storage, input.metadata);
      }
      await this.faults.stall("before_d1_commit", input.build_id);
      const d = createBuild({ ...input, runtime_id: newId() }, now);
      let committed = true;
      try {
        await this.commit(d, this.leaseAt(now, 1), { created: true });
      } catch (err) {
        // A retried create whose first attempt reached D1 (its response lost): the build exists,
        // as that attempt wrote it — the next tick loads it from D1, not from this draft.
        if (!(await getBuildRow(this.db, input.build_id))) throw err;
        committed = false;
      }
      await this.faults.stall("after_d1_commit", input.build_id);
      await Promise.all([this.ctx.storage.delete(PENDING_CREATE_KEY), this.ctx.storage.setAlarm(now)]);
      if (committed) {
        this.state = d.state;
        this.epoch = 1;
        this.hub.publish(d.events, false);
      }
      return { ok: true, value: { build_id: input.build_id } };
    });
  }

  /**
   * A create interrupted before it cleared its pending mark (crash, D1 error): the build exists
   * when its D1 commit landed — then it runs — and otherwise never existed: the runner forgets it.
   * Returns whether the build lives on.
   */
  private async settleCreate(): Promise<boolean> {
    if (!(await this.ctx.storage.get<boolean>(PENDING_CREATE_KEY))) return true;
    const buildId = await this.ctx.storage.get<string>(BUILD_ID_KEY);
    if (buildId && (await getBuildRow(this.db, buildId))) {
      await this.ctx.storage.delete(PENDING_CREATE_KEY);
      logLine("warn", "create_recovered", { build_id: buildId }, configuredLogLevel(this.config));
      return true;
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    logLine("warn", "create_abandoned", { build_id: buildId ?? null }, configuredLogLevel(this.config));
    return false;
  }

  /**
   * The build as GET /v1/builds/{id} shows it: kept in memory from the create on (each commit
   * applies its draft), loaded from D1 once after a restart. A load that overlapped a commit is
   * returned but not kept.
   */
  async view(): Promise<RpcResult<BuildView>> {
    if (this.cachedView) return { ok: true, value: this.cachedView };
    const buildId = await this.ctx.storage.get<string>(BUILD_ID_KEY);
    if (!buildId) return { ok: false, code: "build_not_found" };
    const seen = this.commits;
    const row = await getBuildView(this.db, buildId);
    if (!row) return { ok: false, code: "build_not_found" };
    const view = viewFromRow(row);
    if (seen === this.commits) this.cachedView = view;
    return { ok: true, value: view };
  }

  /** Every write of the build's rows: one fenced batch, then the view follows it (dropped if the batch failed). */
  private async commit(d: Draft, lease: ReturnType<BuildRunner["leaseAt"]>, opts?: { created?: boolean; faulty?: boolean }): Promise<void> {
    const prior = opts?.created ? null : this.cachedView;
    this.cachedView = null;
    try {
      const fault = opts?.faulty ? await this.faults.before(d.state.build_id, "commit") : null;
      await commitDraft(this.db, d, lease, opts);
      if (fault === "lost") throw new Error("fault_injected:d1_response_lost");
    } finally {
      this.commits++; // a view() load that overlapped the batch is not kept
    }
    // Also replaces a view a load cached while the batch was in flight (it may predate it).
    this.cachedView = prior || opts?.created ? applyDraft(prior, d) : null;
    if (opts?.created) this.findingsTotal = 0;
    if (this.findingsTotal !== null) this.findingsTotal += d.findings.length;
  }

  /** The alarm, guarded: failing ticks are counted and end in dead letters (src/builds/dead-letters.guard.ts). */
  async alarm(): Promise<void> {
    // Only a create that did not finish leaves the mark (settled under the mutex, as creates run).
    if ((await this.ctx.storage.get<boolean>(PENDING_CREATE_KEY)) && !(await this.mutex.run(() => this.settleCreate()))) return;
    await guardedAlarm({ storage: this.ctx.storage, d1: this.env.DB, config: this.config, background: (p) => this.ctx.waitUntil(p) }, () => this.tickAlarm());
  }

  /**
   * The runtime tick loop: alarms are at-least-once, so `tick` is idempotent. The fault hook
   * (FAULT_INJECTION, development/test only) delivers an alarm twice, and throws inside a tick
   * after it decided (nothing is committed; the runtime retries the alarm).
   */
  private async tickAlarm(): Promise<void> {
    const faults = this.config.FAULT_INJECTION;
    const deliver = () => this.ticked(() => this.withState((d) => {
      const report = tick(d, this.tickOptions());
      if (faults && faultRoll(faults.seed, d.state.build_id, "tick", this.ticks++) < faults.tick_throw_rate) throw new Error("fault_injected:tick_throw");
      return report;
    }, { faulty: true }));
    const results = await Promise.all(faults?.redeliver_alarms ? [deliver(), deliver()] : [deliver()]);
    for (const res of results) if (!res.ok && res.code !== "lease_lost" && res.code !== "build_not_found") throw new Error(res.code);
  }

  /** A safe nudge (POST …/runtime/tick): the alarm's tick, serialised with it; 409 without side effects when not runnable. */
  async nudge(): Promise<RpcResult<TickReport>> {
    return this.ticked(() => this.withState((d) => {
      applyControl(d, { type: "assert_tickable" });
      return tick(d, this.tickOptions());
    }));
  }

  /**
   * A signed runner message (ack, heartbeat, result) for one task run attempt. Messages for a
   * run that is no longer in flight (late, duplicate, other attempt) are ignored idempotently.
   */
  async runnerReport(raw: RunnerMessage): Promise<RpcResult<{ accepted: boolean }>> {
    const msg = RunnerMessage.parse(raw);
    const res = await this.ticked(() => this.withState((d) => {
      const run = d.state.task_runs.find((r) => r.task_run_id === msg.task_run_id);
      if (!run || run.runner_kind !== "http" || run.status !== "running" || run.attempt !== msg.attempt) {
        return { ...tick(d, { ...this.tickOptions(), maxRounds: 0 }), accepted: false };
      }
      if (msg.type !== "result") {
        run.heartbeat_at = d.ts;
        d.touchedRuns.add(run.task_run_id);
        return { ...tick(d, { ...this.tickOptions(), maxRounds: 0 }), accepted: true };
      }
      const result = resultOfMessage(msg, run.node_id, agentOf(d.state, run.node_id));
      return { ...tick(d, { ...this.tickOptions(), reported: new Map([[run.task_run_id, result]]) }), accepted: true };
    }));
    return res.ok ? { ok: true, value: { accepted: res.value.accepted } } : res;
  }

  /** An operator control action (abort, resume, replan, gates, …) applied atomically. */
  async control(raw: ControlAction, rawActor?: AuditActor): Promise<RpcResult<unknown>> {
    const action = ControlActionSchema.parse(raw);
    const actor = rawActor === undefined ? undefined : AuditActorSchema.parse(rawActor);
    const workerEnabled = true;
    return this.mutex.run(() => this.withState((d) => {
      const value = applyControl(d, action, { workerEnabled });
      // An action that changed the build is audited in the same fenced batch (src/audit).
      if (actor !== undefined && d.changed) d.audit.push(controlAudit(actor, action, d.state.build_id));
      return { value, next_wake_at: Date.now() };
    }));
  }

  /**
   * Watchdog re-arm: makes sure the tick loop is scheduled. Returns whether it had to. A runner
   * whose storage does not know the build (it was reset, or a create crashed in an older layout)
   * adopts `buildId` and restores itself from D1 on the tick that follows.
   */
  async wake(buildId?: string): Promise<boolean> {
    if ((await this.ctx.storage.getAlarm()) !== null || (await isDeadLettered(this.ctx.storage))) return false;
    const known = await this.ctx.storage.get<string>(BUILD_ID_KEY);
    if (!known) {
      if (!buildId) return false;
      await this.ctx.storage.put(BUILD_ID_KEY, buildId);
    }
    await this.ctx.storage.setAlarm(Date.now());
    return true;
  }

  /** Operator re-drive of a dead-lettered build (src/ops): clears the failure count and re-arms the tick. */
  async redrive(by: string, rawActor?: AuditActor): Promise<RpcResult<RedriveOutcome>> {
    const actor = rawActor === undefined ? undefined : AuditActorSchema.parse(rawActor);
    const out = await redriveRunner({ storage: this.ctx.storage, d1: this.env.DB, config: this.config }, by, actor);
    return out ? { ok: true, value: out } : { ok: false, code: "build_not_found" };
  }

  /** SSE stream of events with seq > after: replay, then live until the build ends. */
  async openStream(after: number): Promise<ReadableStream<Uint8Array>> {
    const cfg = this.config;
    const buildId = (await this.ctx.storage.get<string>(BUILD_ID_KEY)) ?? "";
    return this.hub.open({
      after: Math.max(0, Math.floor(after)),
      heartbeatMs: cfg.SSE_HEARTBEAT_SECONDS * 1000,
      idleMs: cfg.SSE_IDLE_TIMEOUT_SECONDS * 1000,
      loadPage: (a) => listEvents(this.db, buildId, a, 500),
      endsAt: async (seq) => {
        const row = await getBuildRow(this.db, buildId);
        if (!row || (row.status !== "completed" && row.status !== "aborted")) return false;
        return (await listEvents(this.db, buildId, seq, 1)).length === 0;
      },
    });
  }

  private tickOptions() {
    const c = this.config;
    const f = c.FAULT_INJECTION;
    return {
      parallelism: c.RUNTIME_NODE_PARALLELISM,
      http: { defaultTimeoutMs: c.RUNNER_NODE_TIMEOUT_SECONDS * 1000, heartbeatTimeoutMs: c.RUNNER_HEARTBEAT_TIMEOUT_SECONDS * 1000 },
      faults: f && f.node_failure_rate > 0 ? { node_failure_rate: f.node_failure_rate, seed: f.seed } : undefined,
    };
  }

  /** Runs a tick-producing step under the mutex, then sends its http dispatches outside it. */
  private async ticked<T extends TickReport>(step: () => Promise<RpcResult<T>>): Promise<RpcResult<T>> {
    if (await isDeadLettered(this.ctx.storage)) return { ok: false, code: "build_dead_lettered" };
    const res = await this.mutex.run(step);
    if (res.ok) for (const run of res.value.http_dispatches) this.ctx.waitUntil(this.dispatch(run));
    return res;
  }

  /**
   * Sends one run to the runner service (signed). The runner acknowledges at once; anything else
   * (unreachable, non-2xx, no runner configured, a secret that cannot be opened) is a failed
   * result that goes through the normal retry/fallback rules.
   */
  private async dispatch(run: TaskRunState): Promise<void> {
    let failure: string | null = null;
    try {
      const payload = await buildDispatch(this.env, this.config, this.state, run);
      const res = await sendDispatch(this.config, payload);
      if (!res.ok) failure = `dispatch_rejected:${res.status}`;
    } catch (err) {
      failure = err instanceof DispatchError ? err.message : "dispatch_failed";
    }
    if (failure === null) return;
    const reason = failure;
    await this.ticked(() => this.withState((d) => {
      const current = d.state.task_runs.find((r) => r.task_run_id === run.task_run_id);
      if (!current || current.status !== "running") return tick(d, { ...this.tickOptions(), maxRounds: 0 });
      return tick(d, { ...this.tickOptions(), reported: new Map([[run.task_run_id, httpFailure(current, agentOf(d.state, run.node_id), d.now, reason)]]) });
    }));
  }

  /**
   * Loads (lease + state) if needed, runs `op` on a copy of the state, persists it in one fenced
   * batch, publishes the events, announces a finish and re-arms. AppErrors thrown by `op` are
   * expected failures: nothing is written and they return as results.
   */
  private async withState<T extends { next_wake_at: number | null }>(op: (d: Draft) => T, opts: { faulty?: boolean } = {}): Promise<RpcResult<T>> {
    if (!(await this.ensureLoaded())) return { ok: false, code: "build_not_found" };
    const now = Date.now();
    const d = new Draft(structuredClone(this.state as BuildState), now);
    let value: T;
    try {
      value = op(d);
    } catch (err) {
      if (err instanceof AppError) return { ok: false, code: err.code, detail: err.detail };
      throw err;
    }
    const active = d.state.status === "running" || runningRuns(d.state).length > 0;
    const lease = this.leaseAt(now, this.epoch as number, active);
    try {
      // Alarm ticks are where the D1 fault hook strikes (`faulty`): the runtime retries them.
      if (d.changed) await this.commit(d, lease, { faulty: opts.faulty });
      else if (!opts.faulty || (await this.faults.before(d.state.build_id, "lease")) === null) await writeLease(this.db, d.state.build_id, lease);
    } catch (err) {
      // Whatever failed, D1 is the truth: the next step reloads from it under a new lease epoch.
      // A batch that failed may still have been applied (a lost response): the findings count
      // is recounted, and live subscribers replay from D1 after the next commit.
      this.state = null;
      this.epoch = null;
      if (err instanceof StaleLeaseError) return { ok: false, code: "lease_lost" };
      this.findingsTotal = null;
      this.resyncStreams = true;
      throw err;
    }
    this.state = d.state;
    if (this.resyncStreams) {
      this.resyncStreams = false;
      this.hub.resync();
    }
    this.hub.publish(d.events, d.state.status === "completed" || d.state.status === "aborted");
    this.announceFinish(d);
    await this.schedule(now, value.next_wake_at, active);
    return { ok: true, value };
  }

  private announceFinish(d: Draft): void {
    const finished = d.events.findLast((e) => e.event_type === "BUILD_FINISHED");
    if (!finished) return;
    const s = d.state;
    const final = finished.payload.final_status as "completed" | "failed" | "aborted";
    this.ctx.waitUntil(
      (this.findingsTotal !== null ? Promise.resolve(this.findingsTotal) : countFindings(this.db, s.build_id)).then((findings) =>
        announceBuildFinished(this.env, {
          build_id: s.build_id, tenant_id: s.tenant_id, created_by: s.created_by, repo_url: s.repo_url, final_status: final,
          metadata: s.metadata, created_at: s.created_at, finished_at: finished.timestamp,
          duration_ms: Math.max(0, parseTimestamp(finished.timestamp) - parseTimestamp(s.created_at)), findings_total: findings,
        }),
      ),
    );
  }

  private async schedule(now: number, wakeAt: number | null, active: boolean): Promise<void> {
    if (!active) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const heartbeat = now + (this.config.RUNTIME_LEASE_TTL_SECONDS * 1000) / 3;
    await this.ctx.storage.setAlarm(Math.max(now, Math.min(wakeAt ?? heartbeat, heartbeat)));
  }

  private leaseAt(now: number, epoch: number, held = true) {
    const ttl = this.config.RUNTIME_LEASE_TTL_SECONDS * 1000;
    return { owner: this.owner, epoch, expiresAt: held ? isoTimestamp(now + ttl) : null, heartbeatAt: isoTimestamp(now) };
  }

  /** Takes a fresh lease epoch and loads the build from D1 the first time this instance acts. */
  private async ensureLoaded(): Promise<boolean> {
    if (this.state && this.epoch !== null) return true;
    const buildId = await this.ctx.storage.get<string>(BUILD_ID_KEY);
    if (!buildId) return false;
    const now = Date.now();
    const epoch = await acquireLease(this.db, buildId, this.owner, isoTimestamp(now + this.config.RUNTIME_LEASE_TTL_SECONDS * 1000), isoTimestamp(now));
    if (epoch === null) return false;
    const state = await loadBuildState(this.db, buildId);
    if (!state) return false;
    this.state = state;
    this.epoch = epoch;
    return true;
  }
}
