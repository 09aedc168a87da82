/**
 * Stable finding fingerprints (issue 16): the same problem in the same file gets the same
 * fingerprint in every build, even when edits above it shift its line. Baselines (`baseline.ts`)
 * match on it and SARIF carries it as `partialFingerprints["clarityFingerprint/v1"]`.
 * Called on a batch of findings (one runner result, or a whole build) before they are stored.
 *
 * Algorithm v1 — fingerprint = first 128 bits (32 hex) of SHA-256 over the JSON array
 *   ["clarity-finding/v1", tool, rule, path, content, occurrence]
 * - tool: `tool` trimmed and lower-cased ("" when absent);
 * - rule: `rule_id` trimmed; without one, `~` + category + `/` + the normalised title;
 * - path: `normalisePath(file)` ("" when absent);
 * - content: the normalised snippet — secrets masked (`maskSecrets`), whitespace runs collapsed
 *   to one space, trimmed; with no snippet, the normalised title with digit runs as `#` when the
 *   finding has a rule id (the title then tells two problems of one rule apart), else "";
 * - occurrence: 0-based index among the batch's findings with the same (tool, rule, path,
 *   content), ordered by line, column, then input order — so two identical lines in one file
 *   get distinct fingerprints, and a line shift that keeps their order keeps both.
 * The line and column numbers, severity, detail and ids are deliberately not hashed.
 */
import { sha256, toHex } from "../lib/crypto";
import { type FingerprintedFinding, type ScanFinding, normalisePath } from "./finding";

/** The algorithm version: the suffix of the SARIF `partialFingerprints` key. */
export const FINGERPRINT_VERSION = "v1";

// Patterns of secret values, replaced by `***` so a rotated credential (or a runner that masks
// with a different number of `*`) does not change the fingerprint.
const SECRET_PATTERNS: readonly RegExp[] = [
  /[*•]{3,}/g, // already masked by the runner; runs of any length are one mask
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g,
  /\bsk-[A-Za-z0-9_-]{16,}\b/g,
  /\bnpm_[A-Za-z0-9]{30,}\b/g,
  /(?<=:\/\/)[^\s/:@]+:[^\s/@]+(?=@)/g, // basic-auth credentials in a URL
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g, // a JWT
];
// Any other long token mixing letters and digits (keys, hashes, high-entropy values).
const LONG_TOKEN = /[A-Za-z0-9+/_=-]{24,}/g;
const MASK = "***";

/** `text` with secret-looking values replaced by `***`. */
export function maskSecrets(text: string): string {
  let out = text;
  for (const re of SECRET_PATTERNS) out = out.replace(re, MASK);
  return out.replace(LONG_TOKEN, (tok) => (/[A-Za-z]/.test(tok) && /[0-9]/.test(tok) ? MASK : tok));
}

/** A snippet or title as hashed: secrets masked, whitespace runs collapsed, trimmed. */
export function normaliseContent(text: string): string {
  return maskSecrets(text).replace(/\s+/g, " ").trim();
}

function normaliseTitle(title: string): string {
  return normaliseContent(title).replace(/[0-9]+/g, "#");
}

/** The identity of a finding without its occurrence index: the tuple a batch groups on. */
export function fingerprintKey(f: ScanFinding): readonly [tool: string, rule: string, path: string, content: string] {
  const tool = (f.tool ?? "").trim().toLowerCase();
  const ruleId = (f.rule_id ?? "").trim();
  const rule = ruleId || `~${f.category.trim().toLowerCase()}/${normaliseTitle(f.title)}`;
  const path = f.file ? normalisePath(f.file) : "";
  const snippet = f.snippet ? normaliseContent(f.snippet) : "";
  const content = snippet || (ruleId ? normaliseTitle(f.title) : "");
  return [tool, rule, path, content];
}

/**
 * The hashed material of each finding of a batch (same order as `findings`), with occurrence
 * indices assigned within the batch. Sync; `fingerprintFindings` hashes it.
 */
export function fingerprintMaterials(findings: readonly ScanFinding[]): string[] {
  const keyed = findings.map((f, i) => ({
    i,
    key: fingerprintKey(f),
    line: f.line || Number.MAX_SAFE_INTEGER,
    col: f.column || Number.MAX_SAFE_INTEGER,
  }));
  const groups = new Map<string, typeof keyed>();
  for (const k of keyed) {
    const id = JSON.stringify(k.key);
    const g = groups.get(id);
    if (g) g.push(k);
    else groups.set(id, [k]);
  }
  const out = new Array<string>(findings.length);
  for (const g of groups.values()) {
    g.sort((a, b) => a.line - b.line || a.col - b.col || a.i - b.i);
    g.forEach((k, occurrence) => {
      out[k.i] = JSON.stringify([`clarity-finding/${FINGERPRINT_VERSION}`, ...k.key, occurrence]);
    });
  }
  return out;
}

/** The fingerprint of one material string: 32 lowercase hex characters. */
export async function fingerprintOf(material: string): Promise<string> {
  return toHex((await sha256(material)).subarray(0, 16));
}

/**
 * The batch with a `fingerprint` on each finding (same order). Fingerprints are unique within
 * the batch; pass all of a build's findings of one runner result (or of the whole build) at once.
 */
export async function fingerprintFindings<F extends ScanFinding>(
  findings: readonly F[],
): Promise<FingerprintedFinding<F>[]> {
  const materials = fingerprintMaterials(findings);
  const prints = await Promise.all(materials.map(fingerprintOf));
  return findings.map((f, i) => ({ ...f, fingerprint: prints[i] as string }));
}
