/**
 * A runner's recent events (src/builds/event-stream.ts `RecentEvents`): a stream replays from them
 * only when its cursor is within what the runner holds; otherwise (unknown, or older than the
 * oldest held) the answer is null and the stream reads D1.
 */
import { describe, expect, it } from "vitest";
import { RecentEvents } from "../../src/builds/event-stream";
import type { BuildEvent } from "../../src/builds/run-machine";

const ev = (seq: number): BuildEvent => ({
  seq,
  event_type: "TASK_COMPLETED",
  build_id: "b",
  timestamp: "2026-01-01T00:00:00.000Z",
  payload: {},
});
const seqs = (events: BuildEvent[] | null) => events?.map((e) => e.seq) ?? null;

describe("RecentEvents", () => {
  it("is unknown until reset, and after a reset to unknown", () => {
    const r = new RecentEvents();
    r.append([ev(1)]);
    expect(r.after(0, 10)).toBeNull();
    r.reset(1);
    r.append([ev(1), ev(2)]);
    expect(seqs(r.after(0, 10))).toEqual([1, 2]);
    r.reset(null);
    expect(r.after(0, 10)).toBeNull();
  });

  it("answers a cursor within what it holds, pages by limit, and refuses older cursors", () => {
    const r = new RecentEvents();
    r.reset(5); // loaded from D1: events 1-4 are stored there only
    r.append([ev(5), ev(6), ev(7)]);
    expect(r.after(3, 10)).toBeNull();
    expect(seqs(r.after(4, 10))).toEqual([5, 6, 7]);
    expect(seqs(r.after(5, 1))).toEqual([6]);
    expect(seqs(r.after(7, 10))).toEqual([]);
  });

  it("keeps the newest events up to its cap and moves its start with them", () => {
    const r = new RecentEvents(3);
    r.reset(1);
    r.append([ev(1), ev(2), ev(3), ev(4), ev(5)]);
    expect(r.after(1, 10)).toBeNull();
    expect(seqs(r.after(2, 10))).toEqual([3, 4, 5]);
  });
});
