/**
 * GET /metrics for tests: fetch, check the exposition grammar strictly (every line a HELP, TYPE
 * or sample line; one TYPE per family before its samples; no duplicate series; cumulative
 * histogram buckets with +Inf = _count), parse with the third-party `parse-prometheus-text-format`
 * (which flattens labeled histograms, so single values are read from the checked sample lines).
 */
import parsePrometheusTextFormat, { type Family } from "parse-prometheus-text-format";
import { expect } from "vitest";
import { raw } from "../helpers/api";

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const VALUE = "(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|[+-]?Inf|NaN)";
const SAMPLE_RE = new RegExp(`^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)?\\})? (${VALUE})$`);
const HELP_RE = new RegExp(`^# HELP (${NAME}) .*$`);
const TYPE_RE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);

function parseLabels(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (raw ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
    out[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
  return out;
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`)
    .join(",")}}`;
}

/**
 * Throws unless `text` is well-formed Prometheus text exposition format 0.0.4; returns every
 * sample as `name{k="v",…}` (labels sorted) → value.
 */
export function assertExposition(text: string): Map<string, number> {
  expect(text.endsWith("\n"), "ends with a line feed").toBe(true);
  const types = new Map<string, string>();
  const seenSamples = new Set<string>();
  const series = new Map<string, number>();
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ")) {
      expect(line, "HELP line").toMatch(HELP_RE);
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const m = TYPE_RE.exec(line);
      expect(m, `TYPE line: ${line}`).not.toBeNull();
      const name = m?.[1] as string;
      expect(types.has(name), `one TYPE for ${name}`).toBe(false);
      expect(seenSamples.has(name), `TYPE of ${name} before its samples`).toBe(false);
      types.set(name, m?.[2] as string);
      continue;
    }
    const m = SAMPLE_RE.exec(line);
    expect(m, `sample line: ${JSON.stringify(line)}`).not.toBeNull();
    const name = m?.[1] as string;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    expect(types.has(family), `sample ${name} has a TYPE`).toBe(true);
    seenSamples.add(family);
    const labels = parseLabels(m?.[2]);
    const key = seriesKey(name, labels);
    expect(series.has(key), `duplicate series ${key}`).toBe(false);
    series.set(key, Number(m?.[3]));
    samples.push({ name, labels, value: Number(m?.[3]) });
  }
  // Histograms: buckets cumulative in `le` order, `+Inf` equal to `_count`.
  for (const c of samples) {
    const family = c.name.replace(/_count$/, "");
    if (c.name === family || types.get(family) !== "histogram") continue;
    const own = JSON.stringify(c.labels);
    const buckets = samples
      .filter(
        (b) =>
          b.name === `${family}_bucket` &&
          JSON.stringify(Object.fromEntries(Object.entries(b.labels).filter(([k]) => k !== "le"))) === own,
      )
      .sort(
        (a, b) =>
          Number(a.labels.le === "+Inf" ? Infinity : a.labels.le) -
          Number(b.labels.le === "+Inf" ? Infinity : b.labels.le),
      );
    expect(buckets.length, `${family}${own}: buckets`).toBeGreaterThan(1);
    expect(
      buckets.every((b, i) => i === 0 || b.value >= (buckets[i - 1] as { value: number }).value),
      `${family}${own}: cumulative`,
    ).toBe(true);
    expect(buckets.at(-1)?.labels.le, `${family}${own}: ends with +Inf`).toBe("+Inf");
    expect(buckets.at(-1)?.value, `${family}${own}: +Inf = count`).toBe(c.value);
  }
  return series;
}

export interface Scrape {
  /** Every sample line: `name{k="v",…}` (labels sorted) → value. */
  text: string;
  families: Family[];
  /** Value of a counter/gauge series (0 when absent). */
  value(name: string, labels?: Record<string, string>): number;
  /** `_count` of a histogram series (0 when absent). */
  histogramCount(name: string, labels?: Record<string, string>): number;
}

export async function scrape(token: string): Promise<Scrape> {
  const res = await raw("/metrics", { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  const series = assertExposition(text);
  const families = parsePrometheusTextFormat(text);
  return {
    text,
    families,
    value: (name, labels = {}) => series.get(seriesKey(name, labels)) ?? 0,
    histogramCount: (name, labels = {}) => series.get(seriesKey(`${name}_count`, labels)) ?? 0,
  };
}

/** Scrapes until `ok` holds (background metric writes land after the response). */
export async function scrapeUntil(token: string, ok: (s: Scrape) => boolean, timeoutMs = 10_000): Promise<Scrape> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await scrape(token);
    if (ok(s)) return s;
    if (Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 25));
  }
}
