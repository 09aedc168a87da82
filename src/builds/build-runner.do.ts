/**
 * BuildRunner — one Durable Object per build (id = idFromName(build_id)): the single writer of its
 * build's D1 rows (lease with epoch, every batch fenced), the tick loop as `alarm()`, control
 * actions, event seq allocation, live SSE fan-out, the finish announcement and the GET view of its
 * own commits. A transport shell of typed RPC methods: each parses its input and runs one pure
 * decision (run-machine, control-actions, build-runner.core) through the runner's step
 * (build-runner.session: load, apply, persist, publish, re-arm). Its storage bookkeeping and the
 * crash-safe create protocol are build-runner.storage.
 */
import { DurableObject } from "cloudflare:workers";
import { type AuditActor, AuditActorSchema } from "../audit/audit";
import { newId } from "../lib/ids";
import {
  type ControlAction,
  ControlActionSchema,
  type CreateInputRpc,
  CreateInputSchema,
  type RpcResult,
} from "./build-runner.client";
import * as core from "./build-runner.core";
import { RunnerSession } from "./build-runner.session";
import * as storage from "./build-runner.storage";
import { type BuildView, viewFromRow } from "./build-view";
import { getBuildRow, getBuildView } from "./builds.repo";
import { writeStep } from "./commit-faults";
import { applyControl, controlAudit } from "./control-actions";
import { type RedriveOutcome, guardedAlarm, redriveRunner } from "./dead-letters.guard";
import { d1EventSource } from "./event-stream";
import { type TickReport, createBuild, tick } from "./run-machine";
import { RunnerMessage } from "./runner-protocol";

export class BuildRunner extends DurableObject<Env> {
  private readonly run = new RunnerSession(this.ctx, this.env);
  /** Ticks attempted by this instance (the fault hook's roll varies with it). */
  private ticks = 0;

  /**
   * Creates the build (a second create of the same id is a no-op), crash-safe at every step: mark
   * pending and arm the resolve alarm, commit to D1, clear the mark (build-runner.storage) — or,
   * for a build its first tick finishes, only commit to D1 (nothing to resume, nothing stored). The
   * first tick runs in the create's own draft: ready nodes start — and zero-duration work finishes
   * — in the create's batch, with no second commit and no alarm round trip (docs/DECISIONS.md
   * "One batch per create").
   */
  async create(raw: CreateInputRpc): Promise<RpcResult<{ build_id: string; view: BuildView | null }>> {
    const input = CreateInputSchema.parse(raw);
    const { run } = this;
    const dispatches = await run.mutex.run(async () => {
      const stage = await storage.createStage(this.ctx.storage);
      if (stage === "done") return [];
      const now = Date.now();
      const d = createBuild({ ...input, runtime_id: newId() }, now);
      // A build marked to poison its ticks (a development/test hook) leaves them all to the alarm.
      const report = d.state.settings.test_poison_ticks ? null : tick(d, core.tickOptionsOf(run.config));
      await core.prepareFindings(run.db, d);
      const active = core.isActive(d.state);
      // A build its first tick finishes leaves nothing to resume and nothing half-made to forget: its
      // one D1 commit decides whether it exists, so it needs no pending mark (docs/DECISIONS.md).
      const settledByCommit = stage === "new" && report !== null && !active;
      if (stage === "new" && !settledByCommit)
        await storage.markCreatePending(this.ctx.storage, input.build_id, now, d.state.settings);
      await run.faults.stall("before_d1_commit", input.build_id);
      let committed = true;
      try {
        await run.memory.commit(d, true, () =>
          writeStep(run.db, run.faults, d, run.leaseAt(now, 1, active), { created: true }),
        );
      } catch (err) {
        // A retried create whose first attempt reached D1 (its response lost): the build exists,
        // as that attempt wrote it — the next tick loads it from D1, not from this draft.
        if (!(await getBuildRow(run.db, input.build_id))) throw err;
        committed = false;
      }
      await run.faults.stall("after_d1_commit", input.build_id);
      const wakeAt = !committed || !report ? now : active ? run.alarmAt(now, report.next_wake_at) : null;
      if (!settledByCommit) await storage.clearCreatePending(this.ctx.storage, wakeAt);
      // Already in D1 (an earlier attempt wrote it): adopted as the watchdog adopts a build.
      else if (!committed) await storage.wakeRunner(this.ctx.storage, input.build_id);
      if (!committed) return [];
      run.adoptCreated(d);
      return report?.http_dispatches ?? [];
    });
    run.send(dispatches);
    // The view of the commit comes back with the create: the API answers it without a second call.
    const view = await this.view();
    return { ok: true, value: { build_id: input.build_id, view: view.ok ? view.value : null } };
  }

  /** GET /v1/builds/{id}: the view of the last commit, loaded from D1 once after a restart. */
  async view(): Promise<RpcResult<BuildView>> {
    const view = await this.run.memory.view(async () => {
      const buildId = await storage.runnerBuildId(this.ctx);
      const row = buildId ? await getBuildView(this.run.db, buildId) : null;
      return row ? viewFromRow(row) : null;
    });
    return view ? { ok: true, value: view } : { ok: false, code: "build_not_found" };
  }

  /** The alarm, guarded: failing ticks are counted and end in dead letters (dead-letters.guard.ts). */
  async alarm(): Promise<void> {
    const { run } = this;
    // Only a create that did not finish leaves the mark (settled under the mutex, as creates run).
    const settle = () => run.mutex.run(() => storage.settleCreate(this.ctx.storage, run.db, run.config));
    if ((await storage.createPending(this.ctx.storage)) && !(await settle())) return;
    const io = {
      storage: this.ctx.storage,
      d1: this.env.DB,
      config: run.config,
      background: (p: Promise<unknown>) => this.ctx.waitUntil(p),
    };
    await guardedAlarm(io, () => this.tickAlarm());
  }

  /** The tick loop (alarms are at-least-once; `tick` is idempotent). The fault hook redelivers and throws. */
  private async tickAlarm(): Promise<void> {
    const faults = this.run.config.FAULT_INJECTION;
    const deliver = () =>
      this.run.ticked(() =>
        this.run.step(
          (d) => {
            const report = tick(d, core.tickOptionsOf(this.run.config));
            if (core.tickThrows(faults, d.state.build_id, this.ticks++)) throw new Error("fault_injected:tick_throw");
            return report;
          },
          { faulty: true },
        ),
      );
    const results = await Promise.all(faults?.redeliver_alarms ? [deliver(), deliver()] : [deliver()]);
    for (const res of results)
      if (!res.ok && res.code !== "lease_lost" && res.code !== "build_not_found") throw new Error(res.code);
  }

  /**
   * A safe nudge (POST …/runtime/tick): the alarm's tick, serialised with it; 409 without side effects when not
   * runnable.
   */
  async nudge(): Promise<RpcResult<TickReport>> {
    return this.run.ticked(() =>
      this.run.step((d) => {
        applyControl(d, { type: "assert_tickable" });
        return tick(d, core.tickOptionsOf(this.run.config));
      }),
    );
  }

  /** A signed runner message (ack, heartbeat, result) for one task run attempt. */
  async runnerReport(raw: RunnerMessage): Promise<RpcResult<{ accepted: boolean }>> {
    const msg = RunnerMessage.parse(raw);
    const res = await this.run.ticked(() =>
      this.run.step((d) => core.applyRunnerMessage(d, msg, core.tickOptionsOf(this.run.config))),
    );
    return res.ok ? { ok: true, value: { accepted: res.value.accepted } } : res;
  }

  /** An operator control action (abort, resume, replan, gates, …) applied atomically, audited in its batch. */
  async control(raw: ControlAction, rawActor?: AuditActor): Promise<RpcResult<unknown>> {
    const action = ControlActionSchema.parse(raw);
    const actor = rawActor === undefined ? undefined : AuditActorSchema.parse(rawActor);
    return this.run.mutex.run(() =>
      this.run.step((d) => {
        const value = applyControl(d, action, { workerEnabled: true });
        if (actor !== undefined && d.changed) d.audit.push(controlAudit(actor, action, d.state.build_id));
        return { value, next_wake_at: Date.now() };
      }),
    );
  }

  /** Watchdog re-arm (build-runner.storage): whether the tick loop had to be scheduled. */
  async wake(buildId?: string): Promise<boolean> {
    return storage.wakeRunner(this.ctx.storage, buildId);
  }

  /** Operator re-drive of a dead-lettered build: clears the failure count and re-arms the tick. */
  async redrive(by: string, rawActor?: AuditActor): Promise<RpcResult<RedriveOutcome>> {
    const actor = rawActor === undefined ? undefined : AuditActorSchema.parse(rawActor);
    const out = await redriveRunner({ storage: this.ctx.storage, d1: this.env.DB, config: this.run.config }, by, actor);
    return out ? { ok: true, value: out } : { ok: false, code: "build_not_found" };
  }

  /** SSE stream of events with seq > after: replay, then live until the build ends. */
  async openStream(after: number): Promise<ReadableStream<Uint8Array>> {
    const { SSE_HEARTBEAT_SECONDS: hb, SSE_IDLE_TIMEOUT_SECONDS: idle } = this.run.config;
    const d1 = d1EventSource(this.run.db, (await storage.runnerBuildId(this.ctx)) ?? "");
    const { run } = this;
    return run.hub.open({
      after: Math.max(0, Math.floor(after)),
      heartbeatMs: hb * 1000,
      idleMs: idle * 1000,
      // What this runner committed is replayed from memory; anything older (or unknown) from D1.
      pageSize: d1.pageSize,
      loadPage: async (a) => run.recent.after(a, d1.pageSize) ?? d1.loadPage(a),
      endsAt: async (seq) => run.endedAt(seq) ?? d1.endsAt(seq),
    });
  }
}
