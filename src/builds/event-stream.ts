/**
 * Live fan-out of a build's events as Server-Sent Events, owned by the BuildRunner DO.
 * A subscriber first replays stored events after its cursor (from D1; events committed meanwhile
 * wait in its `pending` list, so a short page ends the replay), then receives events
 * the DO publishes after each commit; `lastSeq` de-duplicates the hand-over. Heartbeat comments
 * keep proxies from closing the connection; an idle subscriber gets `event: timeout`.
 */
import type { Db } from "../kernel/env";
import { endedAfter, listEvents } from "./builds.repo";
import type { BuildEvent } from "./run-machine";

export interface StreamOptions {
  after: number;
  heartbeatMs: number;
  idleMs: number;
  /** Events with seq > after, ascending, at most one page. */
  loadPage: (after: number) => Promise<BuildEvent[]>;
  /** The page size of `loadPage`: a shorter page is the last (no read for an empty one). */
  pageSize?: number;
  /** Whether the build is completed/aborted and has no events after `seq`. */
  endsAt: (seq: number) => Promise<boolean>;
}

interface Subscriber {
  controller: ReadableStreamDefaultController<Uint8Array>;
  lastSeq: number;
  replaying: boolean;
  pending: BuildEvent[];
  lastActivity: number;
  idleMs: number;
  closed: boolean;
  opts: StreamOptions;
}

const encoder = new TextEncoder();

export function sseFrame(event: BuildEvent): string {
  return `id: ${event.seq}\nevent: ${event.event_type}\ndata: ${JSON.stringify(event)}\n\n`;
}

const REPLAY_PAGE = 500;

/** A build's stored events as a stream's source: pages of 500 for replay, the end after its terminal events. */
export function d1EventSource(
  db: Db,
  buildId: string,
): Pick<StreamOptions, "loadPage" | "endsAt"> & { pageSize: number } {
  return {
    loadPage: (a) => listEvents(db, buildId, a, REPLAY_PAGE),
    pageSize: REPLAY_PAGE,
    endsAt: (seq) => endedAfter(db, buildId, seq),
  };
}

/**
 * The events a runner committed, newest last, contiguous from `from` (at most `cap`): a stream
 * replays from here instead of D1 when its cursor is within them. Unknown (null) until the
 * runner creates or loads its build, and again after a commit whose outcome is unknown.
 */
export class RecentEvents {
  private events: BuildEvent[] = [];
  private from: number | null = null;

  constructor(private readonly cap = 1000) {}

  /** Starts over at `nextSeq` (the next event the runner will commit), or unknown. */
  reset(nextSeq: number | null): void {
    this.events = [];
    this.from = nextSeq;
  }

  /** Events of a successful commit (in seq order, following the ones held). */
  append(events: readonly BuildEvent[]): void {
    if (this.from === null) return;
    this.events.push(...events);
    const over = this.events.length - this.cap;
    if (over > 0) {
      this.events.splice(0, over);
      this.from = this.events[0]?.seq ?? this.from;
    }
  }

  /** Up to `limit` events with seq > `after`, or null when they are not all held here. */
  after(after: number, limit: number): BuildEvent[] | null {
    if (this.from === null || after + 1 < this.from) return null;
    return this.events.filter((e) => e.seq > after).slice(0, limit);
  }
}

export class EventStreamHub {
  private readonly subs = new Set<Subscriber>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private heartbeatMs = 15_000;

  get size(): number {
    return this.subs.size;
  }

  open(opts: StreamOptions): ReadableStream<Uint8Array> {
    let sub: Subscriber;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        sub = {
          controller,
          lastSeq: opts.after,
          replaying: true,
          pending: [],
          lastActivity: Date.now(),
          idleMs: opts.idleMs,
          closed: false,
          opts,
        };
        this.subs.add(sub);
        this.heartbeatMs = opts.heartbeatMs;
        this.ensureTimer();
        controller.enqueue(encoder.encode(`: connected\nretry: 2000\n\n`));
        void this.replay(sub, opts);
      },
      cancel: () => this.drop(sub),
    });
    return stream;
  }

  /** Called by the DO after a commit; `ended` = the build is now completed or aborted. */
  publish(events: BuildEvent[], ended: boolean): void {
    for (const sub of [...this.subs]) {
      if (sub.replaying) {
        sub.pending.push(...events);
        continue;
      }
      this.write(sub, events);
      if (ended) this.close(sub);
    }
  }

  /**
   * After a commit whose outcome is unknown (D1 failed mid-batch: it may have been applied), the
   * DO cannot tell which events were stored: every live subscriber replays from its cursor again
   * (from D1), so nothing committed is skipped and `lastSeq` keeps anything from repeating.
   */
  resync(): void {
    for (const sub of [...this.subs]) {
      if (sub.replaying || sub.closed) continue;
      sub.replaying = true;
      void this.replay(sub, sub.opts);
    }
  }

  private async replay(sub: Subscriber, opts: StreamOptions): Promise<void> {
    try {
      for (;;) {
        const page = await opts.loadPage(sub.lastSeq);
        if (sub.closed) return;
        this.write(sub, page);
        if (page.length === 0 || (opts.pageSize !== undefined && page.length < opts.pageSize)) break;
      }
      sub.replaying = false;
      const pending = sub.pending;
      sub.pending = [];
      this.write(sub, pending);
      if (await opts.endsAt(sub.lastSeq)) this.close(sub);
    } catch {
      this.send(
        sub,
        `event: error\ndata: ${JSON.stringify({ code: "internal", message: "Event replay failed." })}\n\n`,
      );
      this.close(sub);
    }
  }

  private write(sub: Subscriber, events: BuildEvent[]): void {
    let out = "";
    for (const e of events) {
      if (e.seq <= sub.lastSeq) continue;
      out += sseFrame(e);
      sub.lastSeq = e.seq;
    }
    if (out) {
      sub.lastActivity = Date.now();
      this.send(sub, out);
    }
  }

  private send(sub: Subscriber, text: string): void {
    if (sub.closed) return;
    try {
      sub.controller.enqueue(encoder.encode(text));
    } catch {
      this.drop(sub);
    }
  }

  private close(sub: Subscriber): void {
    if (sub.closed) return;
    try {
      sub.controller.close();
    } catch {
      // already closed by the reader
    }
    this.drop(sub);
  }

  private drop(sub: Subscriber): void {
    sub.closed = true;
    this.subs.delete(sub);
    if (this.subs.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private ensureTimer(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const sub of [...this.subs]) {
        if (now - sub.lastActivity >= sub.idleMs) {
          this.send(sub, `event: timeout\ndata: ${JSON.stringify({ message: "Build event stream timed out." })}\n\n`);
          this.close(sub);
        } else {
          this.send(sub, `: ping\n\n`);
        }
      }
    }, this.heartbeatMs);
  }
}
