/**
 * Prometheus text exposition format 0.0.4 (pure): stored series (metrics.store.ts) → the body of
 * GET /metrics. Every family gets `# HELP` and `# TYPE`; series of the same name and labels are
 * summed (a tenant's and the deployment-wide rows); histogram buckets, stored per bucket, are
 * made cumulative with every bound present and `+Inf` equal to `_count`.
 */
import { type Labels, METRIC_FAMILIES, type MetricFamily, encodeLabels, formatBound } from "./metrics.catalog";

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface StoredSeries {
  name: string;
  /** Canonical label string (metrics.catalog.ts `encodeLabels`). */
  labels: string;
  value: number;
}

/** Extra samples computed at scrape time (gauges), by family name. */
export type ComputedSamples = Record<string, Array<{ labels: Labels; value: number }>>;

const HELP_ESCAPE = (s: string) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  // Float sums (histogram _sum) keep a bounded, stable representation.
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12)));
}

/** Parses a canonical label string back into pairs (values unescaped). */
export function decodeLabels(encoded: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(encoded); m; m = re.exec(encoded)) {
    const name = m[1];
    const raw = m[2];
    if (name === undefined || raw === undefined) continue;
    out[name] = raw.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
  }
  return out;
}

function sumByLabels(rows: readonly StoredSeries[], name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) if (r.name === name) out.set(r.labels, (out.get(r.labels) ?? 0) + r.value);
  return out;
}

function sample(name: string, labels: string, value: number): string {
  return `${name}${labels ? `{${labels}}` : ""} ${formatValue(value)}`;
}

function renderSimple(f: MetricFamily, rows: readonly StoredSeries[], computed: ComputedSamples): string[] {
  const values = sumByLabels(rows, f.name);
  for (const c of computed[f.name] ?? [])
    values.set(encodeLabels(c.labels), (values.get(encodeLabels(c.labels)) ?? 0) + c.value);
  for (const z of f.zeroSeries ?? []) if (!values.has(encodeLabels(z))) values.set(encodeLabels(z), 0);
  return [...values.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([labels, v]) => sample(f.name, labels, v));
}

function renderHistogram(f: MetricFamily & { buckets: readonly number[] }, rows: readonly StoredSeries[]): string[] {
  const counts = sumByLabels(rows, `${f.name}_count`);
  const sums = sumByLabels(rows, `${f.name}_sum`);
  const buckets = sumByLabels(rows, `${f.name}_bucket`);
  const lines: string[] = [];
  const bounds = [...f.buckets, Number.POSITIVE_INFINITY];
  for (const labels of [...counts.keys()].sort()) {
    const base = decodeLabels(labels);
    let cumulative = 0;
    for (const bound of bounds) {
      const le = formatBound(bound);
      cumulative += buckets.get(encodeLabels({ ...base, le })) ?? 0;
      // +Inf is the total by definition, whatever a concurrent partial write left behind.
      const v = Number.isFinite(bound) ? cumulative : (counts.get(labels) ?? 0);
      lines.push(sample(`${f.name}_bucket`, encodeLabels({ ...base, le }), v));
    }
    lines.push(sample(`${f.name}_sum`, labels, sums.get(labels) ?? 0));
    lines.push(sample(`${f.name}_count`, labels, counts.get(labels) ?? 0));
  }
  return lines;
}

/** The exposition body for the stored series plus computed gauges, families in catalogue order. */
export function renderExposition(rows: readonly StoredSeries[], computed: ComputedSamples = {}): string {
  const lines: string[] = [];
  for (const f of Object.values(METRIC_FAMILIES) as MetricFamily[]) {
    lines.push(`# HELP ${f.name} ${HELP_ESCAPE(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    if (f.type === "histogram" && f.buckets) lines.push(...renderHistogram({ ...f, buckets: f.buckets }, rows));
    else lines.push(...renderSimple(f, rows, computed));
  }
  return `${lines.join("\n")}\n`;
}
