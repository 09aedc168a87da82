/**
 * The `detail` JSON envelope of issue 15: before migration 0010 gave findings real columns,
 * `rule_id`, `tool`, `column`, `end_line` and the masked `snippet` rode in `detail`. Rows written
 * then are still read through `decodeDetail`; plain-text details read back unchanged.
 */
import type { ScanFinding } from "./finding";

type FindingInput = Pick<ScanFinding, "rule_id" | "tool" | "column" | "end_line" | "snippet" | "detail">;

export interface FindingExtra {
  rule_id: string | null;
  tool: string | null;
  column: number | null;
  end_line: number | null;
  snippet: string | null;
}

const MARK = "clarity.finding.v1";

/** The `detail` column value for a finding: the envelope when it has structured fields. */
export function encodeDetail(f: FindingInput): string {
  const extra = {
    rule_id: f.rule_id ?? null,
    tool: f.tool ?? null,
    column: f.column ?? null,
    end_line: f.end_line ?? null,
    snippet: f.snippet ?? null,
  };
  if (Object.values(extra).every((v) => v === null)) return f.detail ?? "";
  return JSON.stringify({ [MARK]: extra, detail: f.detail ?? "" });
}

/** The text detail and the structured fields of a stored `detail` value. */
export function decodeDetail(stored: string): { detail: string } & FindingExtra {
  const none: FindingExtra = { rule_id: null, tool: null, column: null, end_line: null, snippet: null };
  if (!stored.startsWith(`{"${MARK}"`)) return { detail: stored, ...none };
  try {
    const v = JSON.parse(stored) as { detail?: unknown } & Record<string, Partial<FindingExtra>>;
    const x = v[MARK] ?? {};
    const str = (s: unknown) => (typeof s === "string" ? s : null);
    const num = (n: unknown) => (typeof n === "number" ? n : null);
    return {
      detail: typeof v.detail === "string" ? v.detail : "",
      rule_id: str(x.rule_id),
      tool: str(x.tool),
      column: num(x.column),
      end_line: num(x.end_line),
      snippet: str(x.snippet),
    };
  } catch {
    return { detail: stored, ...none };
  }
}
