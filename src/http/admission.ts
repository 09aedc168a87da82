/**
 * Admission control for build creation (issue 22): a per-isolate gate that keeps every answer
 * fast under a burst instead of letting every request in flight wait behind all the others.
 *
 * The isolate runs its requests on one thread, so N simultaneous creates are N × (a create's CPU)
 * of work, and without a gate the last one — and every poll that arrives meanwhile — waits for
 * all of it. The gate lets `maxInFlight` creates run at once and refuses the next ones at once
 * (429 `overloaded`, the caller maps it) with a delay that schedules each refused create after the
 * ones refused before it, at the rate the isolate drains: refused clients come back spread over
 * time, each about when a slot frees, not all together.
 *
 * It never queues a request inside the isolate: a request waiting on a promise that another
 * request resolves is taken for hung by the Workers runtime and cancelled (its clean-up never
 * runs, so its slot would leak) — the wait happens in the client, which honours the delay.
 *
 * The drain rate is measured, not configured: while every slot is taken, the time between
 * releases is the time one admission takes at this isolate's real throughput (whatever else it
 * serves meanwhile: polls, refusals, alarms), counted over windows of WINDOW_MS; an exponential
 * moving average of it is `perAdmitMs`.
 *
 * How many slots there are adapts to latency (AIMD, as TCP and adaptive concurrency limiters do):
 * `maxInFlight` is the ceiling; an admitted create that took longer than TARGET_SERVICE_MS means
 * the isolate's queue is long — every request waits in it, polls too — and the limit shrinks by
 * a tenth; a faster one grows it by 1/limit (about one slot per round of creates). Under a
 * burst the limit settles where a create is answered within the target, so the isolate keeps
 * time for everything else it serves.
 */

export interface AdmissionLimits {
  /** Creates running at once in this isolate; the next ones are refused with a delay. */
  maxInFlight: number;
}

export type Admission =
  | { admitted: true; release: () => void }
  | { admitted: false; retryAfterSeconds: number; retryAfterMs: number };

/** Before anything has been measured: about one create's CPU on a small machine. */
const INITIAL_PER_ADMIT_MS = 15;
/** Shortest window of releases measured (the isolate's clock moves only between I/O). */
const WINDOW_MS = 200;
/** A longer time per admission is not a drain rate (the isolate was stalled). */
const MAX_SAMPLE_MS = 1000;
/** An admitted create not released after this is taken for cancelled, and its slot freed. */
export const SLOT_LEASE_MS = 60_000;
/** Weight of the newest window in the moving average. */
const EWMA_WEIGHT = 0.5;
/** An admitted create slower than this (admission to answer) shrinks the limit. */
export const TARGET_SERVICE_MS = 200;
/** The limit's multiplicative decrease per slow create. */
const DECREASE = 0.9;

interface Slot {
  admittedAt: number;
}

export class AdmissionGate {
  /** Admitted creates not yet released (nor reclaimed). */
  private readonly slots = new Set<Slot>();
  private perAdmit = INITIAL_PER_ADMIT_MS;
  /** The adaptive limit (a real number; `limit` rounds it down), between 1 and maxInFlight. */
  private adaptive: number;
  /** Until when the creates refused so far are scheduled (their delays), epoch ms. */
  private backlogUntil = 0;
  /** Creates refused in the current overload episode. */
  private refusedInEpisode = 0;
  /** The current window of releases while every slot was taken (null: a slot was free). */
  private window: { start: number; releases: number } | null = null;

  constructor(
    readonly limits: AdmissionLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.adaptive = limits.maxInFlight;
  }

  /** Creates admitted at once now: the adaptive limit, at least 1. */
  get limit(): number {
    return Math.max(1, Math.floor(this.adaptive));
  }

  /** Measured milliseconds per admission while every slot is taken. */
  get perAdmitMs(): number {
    return this.perAdmit;
  }

  get running(): number {
    return this.slots.size;
  }

  /** Refused in the current overload episode. */
  get refused(): number {
    return this.refusedInEpisode;
  }

  /** Admits now, or refuses with the delay after which this create's turn comes. */
  enter(): Admission {
    if (this.slots.size >= this.limit) this.reclaim(this.now());
    return this.slots.size < this.limit ? this.admit() : this.refuse();
  }

  /**
   * Frees the slots of creates admitted more than SLOT_LEASE_MS ago: a request the runtime
   * cancelled (its client went away) never runs its clean-up, and its slot must not leak.
   */
  private reclaim(now: number): void {
    for (const slot of this.slots) if (now - slot.admittedAt > SLOT_LEASE_MS) this.slots.delete(slot);
  }

  /**
   * Ends an overload episode once its schedule has passed and a slot is free: how many creates
   * it refused (0: no episode, or not over).
   */
  takeEpisode(): number {
    if (this.refusedInEpisode === 0 || this.slots.size >= this.limit) return 0;
    if (this.now() < this.backlogUntil) return 0;
    const n = this.refusedInEpisode;
    this.refusedInEpisode = 0;
    return n;
  }

  private admit(): Admission {
    const slot: Slot = { admittedAt: this.now() };
    this.slots.add(slot);
    return {
      admitted: true,
      release: () => {
        const full = this.slots.size >= this.limit;
        // Released twice, or reclaimed already: nothing to free.
        if (!this.slots.delete(slot)) return;
        const now = this.now();
        this.adapt(now - slot.admittedAt);
        this.measure(now, full);
      },
    };
  }

  /** AIMD on one admitted create's time from admission to answer. */
  private adapt(serviceMs: number): void {
    const max = this.limits.maxInFlight;
    this.adaptive =
      serviceMs > TARGET_SERVICE_MS
        ? Math.max(1, this.adaptive * DECREASE)
        : Math.min(max, this.adaptive + 1 / Math.max(1, this.adaptive));
  }

  /** Releases while every slot was taken, over windows of at least WINDOW_MS. */
  private measure(now: number, full: boolean): void {
    if (!full) {
      this.window = null;
      return;
    }
    if (this.window === null) {
      this.window = { start: now, releases: 0 };
      return;
    }
    this.window.releases++;
    const elapsed = now - this.window.start;
    if (elapsed < WINDOW_MS) return;
    const sample = Math.min(MAX_SAMPLE_MS, elapsed / this.window.releases);
    this.perAdmit += EWMA_WEIGHT * (sample - this.perAdmit);
    this.window = { start: now, releases: 0 };
  }

  private refuse(): Admission {
    const now = this.now();
    this.refusedInEpisode++;
    this.backlogUntil = Math.max(this.backlogUntil, now) + this.perAdmit;
    const wait = this.backlogUntil - now;
    return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)), retryAfterMs: Math.ceil(wait) };
  }
}
