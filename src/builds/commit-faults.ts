/**
 * D1 faults for the reliability harness (development/test only, FAULT_INJECTION): a build's
 * commit batch fails before it reaches D1 (`commit_throw_rate`: nothing is written), or after D1
 * applied it (`commit_lost_rate`: the response is lost, so the runner cannot tell), and D1 is
 * unreachable for a while (a test stores `D1_DOWN_UNTIL_KEY` in the runner's storage: every
 * commit and lease write fails until then). The runner must leave no partial writes and resume
 * from D1 once it answers again. And a create can be held at one of its steps
 * (`create_stall_at`), so the crash test (test/node/crash.test.ts) kills the server there.
 */
import type { Db, FaultInjection } from "../kernel/env";
import type { Draft } from "./run-machine";
import { type LeaseWrite, commitDraft, writeLease } from "./run-store";
import { faultRoll } from "./simulated-runner";

/** Epoch ms until which the build's runner sees D1 as unreachable (tests set it). */
export const D1_DOWN_UNTIL_KEY = "fault:d1_down_until";

export type CommitFault = "lost" | null;

/** The steps of a create a crash test can hold it at (FAULT_INJECTION `create_stall_at`). */
export type CreateStep = "before_d1_commit" | "after_d1_commit";

export class CommitFaults {
  private rolls = 0;

  constructor(
    private readonly faults: FaultInjection | undefined,
    private readonly storage: DurableObjectStorage,
  ) {}

  /** Holds a create at `step` for `create_stall_ms` when so configured (logged, so a test can wait for it). */
  async stall(step: CreateStep, buildId: string): Promise<void> {
    const f = this.faults;
    if (!f || f.create_stall_at !== step || f.create_stall_ms <= 0) return;
    console.warn(JSON.stringify({ level: "warn", msg: "fault_injected:create_stalled", step, build_id: buildId }));
    await new Promise((r) => setTimeout(r, f.create_stall_ms));
  }

  /**
   * Called before a commit or lease write. Throws when the batch is to fail before D1; returns
   * "lost" when it is to reach D1 and then fail (the caller throws after the write).
   */
  async before(buildId: string, kind: "commit" | "lease"): Promise<CommitFault> {
    const f = this.faults;
    if (!f) return null;
    const downUntil = await this.storage.get<number>(D1_DOWN_UNTIL_KEY);
    if (downUntil !== undefined && Date.now() < downUntil) throw new Error("fault_injected:d1_unreachable");
    if (kind !== "commit") return null;
    const roll = faultRoll(f.seed, buildId, "commit", this.rolls++);
    if (roll < f.commit_throw_rate) throw new Error("fault_injected:d1_batch_failed");
    if (roll < f.commit_throw_rate + f.commit_lost_rate) return "lost";
    return null;
  }
}

/**
 * Writes one step of a runner: its draft as one fenced batch, or only the lease when the step
 * changed nothing. `faulty` steps (alarm ticks, which the runtime retries) go through the hook.
 */
export async function writeStep(
  db: Db,
  faults: CommitFaults,
  d: Draft,
  lease: LeaseWrite,
  opts: { created?: boolean; faulty?: boolean },
): Promise<void> {
  const id = d.state.build_id;
  if (!d.changed && !opts.created) {
    if (!opts.faulty || (await faults.before(id, "lease")) === null) await writeLease(db, id, lease);
    return;
  }
  const fault = opts.faulty ? await faults.before(id, "commit") : null;
  await commitDraft(db, d, lease, opts);
  if (fault === "lost") throw new Error("fault_injected:d1_response_lost");
}
