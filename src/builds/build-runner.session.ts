/**
 * The single-writer step of a BuildRunner (build-runner.do.ts): load (lease + state) once, apply
 * one pure operation to a Draft of a copy of the state, persist it as one fenced batch (or only
 * the lease), publish its events, announce a finish and re-arm the alarm. Holds what the runner
 * keeps in memory: the run state and lease epoch, the view and findings count
 * (build-runner.memory), the live stream hub. Also sends http dispatches outside the mutex.
 */
import { drizzle } from "drizzle-orm/d1";
import { type Config, type Db, loadConfig } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { newId } from "../lib/ids";
import { Mutex } from "../lib/mutex";
import { announceBuildFinished } from "./build-hooks";
import type { RpcResult } from "./build-runner.client";
import * as core from "./build-runner.core";
import { RunnerMemory } from "./build-runner.memory";
import * as storage from "./build-runner.storage";
import { countFindings } from "./builds.repo";
import { CommitFaults, writeStep } from "./commit-faults";
import { isDeadLettered } from "./dead-letters.guard";
import { EventStreamHub, RecentEvents } from "./event-stream";
import { type BuildState, Draft, type TaskRunState, type TickReport, cloneState } from "./run-machine";
import { type LeaseWrite, StaleLeaseError, loadLeased } from "./run-store";
import { dispatchRun } from "./runner-dispatch";

export class RunnerSession {
  private state: BuildState | null = null;
  private epoch: number | null = null;
  private readonly owner = `build-runner-${newId()}`;
  readonly mutex = new Mutex();
  readonly hub = new EventStreamHub();
  /** The events this runner committed (streams replay from here when they can, not from D1). */
  readonly recent = new RecentEvents();
  readonly memory = new RunnerMemory();
  /** A commit failed with an unknown outcome: live subscribers must catch up from D1. */
  private resyncStreams = false;
  private drizzleDb: Db | null = null;
  private commitFaults: CommitFaults | null = null;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
  ) {}

  /**
   * One drizzle instance per DO instance: building it extracts the relational config of every table (bench profile).
   */
  get db(): Db {
    return (this.drizzleDb ??= drizzle(this.env.DB));
  }
  get config(): Config {
    return loadConfig(this.env);
  }
  /** The development/test-only D1 fault hook (commit-faults.ts); inert without FAULT_INJECTION. */
  get faults(): CommitFaults {
    return (this.commitFaults ??= new CommitFaults(this.config.FAULT_INJECTION, this.ctx.storage));
  }

  leaseAt(now: number, epoch: number, held = true): LeaseWrite {
    return core.leaseAt(this.owner, this.config.RUNTIME_LEASE_TTL_SECONDS, now, epoch, held);
  }

  /** When an active runner ticks next (build-runner.core `alarmAt`). */
  alarmAt(now: number, wakeAt: number | null): number {
    return core.alarmAt(now, wakeAt, this.config.RUNTIME_LEASE_TTL_SECONDS);
  }

  /** A create's draft committed (lease epoch 1): it is the state, its events go live, a finish is announced. */
  adoptCreated(d: Draft): void {
    [this.state, this.epoch] = [d.state, 1];
    this.recent.reset(d.events[0]?.seq ?? d.state.next_seq);
    this.published(d);
  }

  /** Whether the build ended with its event `seq` (completed or aborted, nothing after); null when not known here. */
  endedAt(seq: number): boolean | null {
    const s = this.state;
    if (!s) return null;
    return (s.status === "completed" || s.status === "aborted") && seq >= s.next_seq - 1;
  }

  /** Sends http dispatches (outside the mutex); a failed one becomes its run's failed result. */
  send(runs: readonly TaskRunState[]): void {
    for (const run of runs) this.ctx.waitUntil(this.dispatch(run));
  }

  /** Runs a tick-producing step under the mutex, then sends its http dispatches outside it. */
  async ticked<T extends TickReport>(step: () => Promise<RpcResult<T>>): Promise<RpcResult<T>> {
    if (await isDeadLettered(this.ctx.storage)) return { ok: false, code: "build_dead_lettered" };
    const res = await this.mutex.run(step);
    if (res.ok) this.send(res.value.http_dispatches);
    return res;
  }

  /** Sends a run to the runner service; a failed dispatch is the run's failed result. */
  private async dispatch(run: TaskRunState): Promise<void> {
    const reason = await dispatchRun(this.env, this.config, this.state, run);
    if (reason === null) return;
    await this.ticked(() =>
      this.step((d) => core.applyDispatchFailure(d, run.task_run_id, reason, core.tickOptionsOf(this.config))),
    );
  }

  /**
   * Loads (lease + state) if needed, runs `op` on a copy of the state, persists it in one fenced
   * batch, publishes the events, announces a finish and re-arms. AppErrors thrown by `op` are
   * expected failures: nothing is written and they return as results.
   */
  async step<T extends { next_wake_at: number | null }>(
    op: (d: Draft) => T,
    opts: { faulty?: boolean } = {},
  ): Promise<RpcResult<T>> {
    if (!(await this.ensureLoaded())) return { ok: false, code: "build_not_found" };
    const now = Date.now();
    const d = new Draft(cloneState(this.state as BuildState), now);
    let value: T;
    try {
      value = op(d);
    } catch (err) {
      if (err instanceof AppError) return { ok: false, code: err.code, detail: err.detail };
      throw err;
    }
    await core.prepareFindings(this.db, d);
    const active = core.isActive(d.state);
    const write = () => writeStep(this.db, this.faults, d, this.leaseAt(now, this.epoch as number, active), opts);
    try {
      await (d.changed ? this.memory.commit(d, false, write) : write());
    } catch (err) {
      // Whatever failed, D1 is the truth: the next step reloads it under a new lease epoch. A batch
      // that failed may have been applied (a lost response): recount findings, resync subscribers.
      [this.state, this.epoch] = [null, null];
      this.recent.reset(null);
      if (err instanceof StaleLeaseError) return { ok: false, code: "lease_lost" };
      this.memory.forgetFindings();
      this.resyncStreams = true;
      throw err;
    }
    this.state = d.state;
    if (this.resyncStreams) this.hub.resync();
    this.resyncStreams = false;
    this.published(d);
    if (active) await this.ctx.storage.setAlarm(this.alarmAt(now, value.next_wake_at));
    else await this.ctx.storage.deleteAlarm();
    return { ok: true, value };
  }

  /** After a commit: its events go live (streams end with the build) and a finish is announced. */
  private published(d: Draft): void {
    this.recent.append(d.events);
    this.hub.publish(d.events, d.state.status === "completed" || d.state.status === "aborted");
    const finish = core.finishOf(d);
    if (!finish) return;
    const findings = () => this.memory.findingsTotal(() => countFindings(this.db, d.state.build_id));
    this.ctx.waitUntil(findings().then((n) => announceBuildFinished(this.env, { ...finish, findings_total: n })));
  }

  /** Takes a fresh lease epoch and loads the build from D1 the first time this instance acts. */
  private async ensureLoaded(): Promise<boolean> {
    if (this.state && this.epoch !== null) return true;
    const buildId = await storage.runnerBuildId(this.ctx);
    const loaded = buildId ? await loadLeased(this.db, buildId, this.leaseAt(Date.now(), 0)) : null;
    if (loaded) [this.state, this.epoch] = [loaded.state, loaded.epoch];
    if (loaded) this.recent.reset(loaded.state.next_seq);
    return loaded !== null;
  }
}
