import { describe, expect, it } from "vitest";
import { checkCron, dueDecision, nextDueAfter } from "../../src/program/schedule";

const t = (s: string) => Date.parse(s);

describe("nextDueAfter (cron read in its time zone)", () => {
  it.each([
    ["*/5 * * * *", "UTC", "2026-03-27T10:02:30Z", "2026-03-27T10:05:00.000Z"],
    ["*/5 * * * *", "UTC", "2026-03-27T10:05:00Z", "2026-03-27T10:10:00.000Z"], // strictly after
    ["0 9 * * 1-5", "Europe/Berlin", "2026-03-27T10:00:00Z", "2026-03-30T07:00:00.000Z"], // Fri → Mon, after DST (CEST)
    ["0 9 * * 1-5", "Europe/Berlin", "2026-03-26T07:30:00Z", "2026-03-26T08:00:00.000Z"], // 08:30 CET → 09:00 CET (before DST)
    ["30 2 * * *", "America/New_York", "2026-01-10T00:00:00Z", "2026-01-10T07:30:00.000Z"],
    ["0 0 1 1 *", "UTC", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00.000Z"],
  ])("%s in %s after %s → %s", (cron, tz, after, due) => {
    expect(new Date(nextDueAfter(cron, tz, t(after)) as number).toISOString()).toBe(due);
  });
});

describe("checkCron", () => {
  it.each([
    ["*/5 * * * *", "UTC", true, null],
    ["0 9 * * MON-FRI", "Europe/Berlin", true, null],
    ["61 * * * *", "UTC", false, "cron"],
    ["* * * *", "UTC", false, "cron"],
    ["0 0 * * * *", "UTC", false, "cron"], // 6 fields (seconds) are not accepted
    ["not a cron", "UTC", false, "cron"],
    ["* * * * *", "Mars/Base", false, "timezone"],
  ])("%s in %s → ok %s", (cron, tz, ok, path) => {
    const r = checkCron(cron, tz);
    expect(r.ok).toBe(ok);
    if (!r.ok) expect(r.path).toBe(path);
  });
});

describe("dueDecision", () => {
  it.each([
    ["no due time", null, "2026-03-27T10:00:00Z", { due: false }],
    ["before the due time", "2026-03-27T10:05:00Z", "2026-03-27T10:04:59Z", { due: false }],
    [
      "at the due time",
      "2026-03-27T10:05:00Z",
      "2026-03-27T10:05:00Z",
      { due: true, dueAt: t("2026-03-27T10:05:00Z"), next: t("2026-03-27T10:10:00Z") },
    ],
    [
      "after an outage: missed due times collapse into one",
      "2026-03-27T10:05:00Z",
      "2026-03-27T11:02:00Z",
      { due: true, dueAt: t("2026-03-27T10:05:00Z"), next: t("2026-03-27T11:05:00Z") },
    ],
  ])("%s", (_name, next, now, expected) => {
    expect(dueDecision(next === null ? null : t(next), t(now), "*/5 * * * *", "UTC")).toEqual(expected);
  });
});
