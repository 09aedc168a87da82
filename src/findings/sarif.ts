/**
 * SARIF 2.1.0 export of a build's findings (issue 16), typed by `@types/sarif`: one run per tool,
 * its rules (id, descriptions, help, default level), and results with locations relative to the
 * repository root (`SRCROOT`), `partialFingerprints`, and `baselineState` — the previous build's
 * fixed findings are emitted as `absent` results. Pure; GET /v1/builds/{id}/findings.sarif calls
 * `toSarif`. `npm test` validates its output with Microsoft's SARIF multitool (test/node).
 */
import type { ArtifactLocation, Log, Region, ReportingDescriptor, Result, Run, VersionControlDetails } from "sarif";
import {
  type FindingState,
  SEVERITY_RANK,
  type ScanFinding,
  type Severity,
  normaliseSeverity,
  normalisePath,
} from "./finding";
import { FINGERPRINT_VERSION } from "./fingerprint";

export const SARIF_MEDIA_TYPE = "application/sarif+json";
export const SARIF_SCHEMA_URI =
  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/** The `partialFingerprints` key of `fingerprint.ts`'s fingerprint. */
export const FINGERPRINT_KEY = `clarityFingerprint/${FINGERPRINT_VERSION}`;
/** The uriBaseId of every artifact location: the root of the scanned repository. */
export const SRCROOT = "SRCROOT";

/** A finding as exported: `ScanFinding` plus what the store adds. */
export interface SarifFinding extends ScanFinding {
  finding_id?: string | null;
  node_id?: string | null;
  fingerprint?: string | null;
  state?: FindingState | null;
}

export interface SarifToolInfo {
  version?: string;
  informationUri?: string;
}

export interface SarifRuleInfo {
  /** A one-sentence description (default: the first finding's title). */
  short?: string;
  /** Help text (default: the first finding's detail, else its title). */
  help?: string;
  helpUri?: string;
}

export interface SarifExportInput {
  /** The build's findings (with `fingerprint` and `state` when computed). */
  findings: readonly SarifFinding[];
  /** The previous build's findings gone now (`diffBaseline().fixed`): results with baselineState `absent`. */
  fixed?: readonly SarifFinding[];
  build: {
    build_id: string;
    repo_url?: string | null;
    commit?: string | null;
    branch?: string | null;
    /** The build `fixed` and the states were computed against. */
    baseline_build_id?: string | null;
  };
  /** Tool versions and pages by tool name (known tools have a default page). */
  tools?: Readonly<Record<string, SarifToolInfo>>;
  /** Rule texts keyed by `${tool}/${rule_id}`. */
  rules?: Readonly<Record<string, SarifRuleInfo>>;
  /**
   * The control plane: the tool name of findings without one and of the empty run of a build
   * without findings; its version and page also describe the runner's own tools (all but
   * secretlint and ast-grep) unless `tools` says otherwise.
   */
  product?: { name: string } & SarifToolInfo;
}

const KNOWN_TOOLS: Readonly<Record<string, SarifToolInfo>> = {
  secretlint: { informationUri: "https://github.com/secretlint/secretlint" },
  "ast-grep": { informationUri: "https://ast-grep.github.io/" },
};

/** SARIF level of a severity: critical/high → error, medium → warning, low/info → note. */
export function sarifLevel(severity: string): "error" | "warning" | "note" {
  const s = normaliseSeverity(severity);
  return s === "critical" || s === "high" ? "error" : s === "medium" ? "warning" : "note";
}

// GitHub code scanning reads a rule's `security-severity` (CVSS-like 0.0–10.0) for its ranking.
const SECURITY_SEVERITY: Readonly<Record<Severity, string | null>> = {
  critical: "9.5",
  high: "8.0",
  medium: "5.5",
  low: "3.0",
  info: null,
};

/** Text as a sentence: trimmed, ending with a period (SARIF's message guidance, SARIF2001). */
function sentence(text: string): string {
  const t = text.trim().replace(/\s+/g, " ");
  if (!t) return "Finding.";
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** A repository path as a relative URI reference: segments percent-encoded, `/` kept. */
export function artifactUri(file: string): string {
  return normalisePath(file)
    .split("/")
    .map((seg) => encodeURIComponent(seg).replace(/%40/g, "@"))
    .join("/");
}

/** The repository URL when it is an absolute URI a SARIF consumer can use, else null. */
function repositoryUri(repoUrl: string | null | undefined): string | null {
  if (!repoUrl) return null;
  try {
    const u = new URL(repoUrl);
    if (!["https:", "http:", "ssh:", "git:"].includes(u.protocol)) return null;
    u.username = "";
    u.password = ""; // never export credentials embedded in a clone URL
    return u.toString();
  } catch {
    return null;
  }
}

function ruleIdOf(f: ScanFinding): string {
  return f.rule_id?.trim() || `category/${f.category.trim().toLowerCase() || "uncategorised"}`;
}

function region(f: ScanFinding): Region | undefined {
  if (!f.line || f.line < 1) return undefined;
  const r: Region = { startLine: f.line };
  if (f.column && f.column >= 1) r.startColumn = f.column;
  if (f.end_line && f.end_line >= f.line) r.endLine = f.end_line;
  if (f.snippet) r.snippet = { text: f.snippet };
  return r;
}

function result(
  f: SarifFinding,
  ruleId: string,
  ruleIndex: number,
  baselineState: Result.baselineState | undefined,
): Result {
  const r: Result = { ruleId, ruleIndex, level: sarifLevel(f.severity), message: { text: sentence(f.title) } };
  if (f.file) {
    const artifactLocation: ArtifactLocation = { uri: artifactUri(f.file), uriBaseId: SRCROOT };
    const reg = region(f);
    r.locations = [{ physicalLocation: reg ? { artifactLocation, region: reg } : { artifactLocation } }];
  }
  if (f.fingerprint) r.partialFingerprints = { [FINGERPRINT_KEY]: f.fingerprint };
  if (baselineState) r.baselineState = baselineState;
  r.properties = {
    severity: normaliseSeverity(f.severity),
    category: f.category,
    ...(f.finding_id ? { finding_id: f.finding_id } : {}),
    ...(f.node_id ? { node_id: f.node_id } : {}),
  };
  return r;
}

/**
 * The SARIF 2.1.0 log of a build: one run per tool (in name order; a build without findings has
 * one empty run of the product), rules sorted by id, results in input order followed by the
 * fixed findings as `absent` results. Deterministic for the same input.
 */
export function toSarif(input: SarifExportInput): Log {
  const product = input.product ?? { name: "clarity" };
  const toolOf = (f: ScanFinding) => f.tool?.trim() || product.name;
  const byTool = new Map<string, { current: SarifFinding[]; fixed: SarifFinding[] }>();
  const bucket = (tool: string) => {
    let b = byTool.get(tool);
    if (!b) byTool.set(tool, (b = { current: [], fixed: [] }));
    return b;
  };
  for (const f of input.findings) bucket(toolOf(f)).current.push(f);
  for (const f of input.fixed ?? []) bucket(toolOf(f)).fixed.push(f);
  if (byTool.size === 0) bucket(product.name);

  const repoUri = repositoryUri(input.build.repo_url);
  const provenance: VersionControlDetails[] | undefined = repoUri
    ? [
        {
          repositoryUri: repoUri,
          ...(input.build.commit ? { revisionId: input.build.commit } : {}),
          ...(input.build.branch ? { branch: input.build.branch } : {}),
          mappedTo: { uriBaseId: SRCROOT },
        },
      ]
    : undefined;
  const hasBaseline = Boolean(input.build.baseline_build_id) || input.findings.some((f) => f.state);

  const runs: Run[] = [...byTool.keys()].sort().map((tool) => {
    const { current, fixed } = byTool.get(tool) as { current: SarifFinding[]; fixed: SarifFinding[] };
    // A third-party tool has its own page; the runner's own checks (builder, inventory, …) and
    // findings without a tool are the product's, so they default to its version and page.
    const own = KNOWN_TOOLS[tool] ?? { version: product.version, informationUri: product.informationUri };
    const info: SarifToolInfo = { ...own, ...input.tools?.[tool] };
    // Rules: one per id, described by its first finding, at the most severe level it was reported.
    const firstOf = new Map<string, SarifFinding>();
    const worst = new Map<string, Severity>();
    for (const f of [...current, ...fixed]) {
      const id = ruleIdOf(f);
      if (!firstOf.has(id)) firstOf.set(id, f);
      const s = normaliseSeverity(f.severity);
      const w = worst.get(id);
      if (w === undefined || SEVERITY_RANK[s] > SEVERITY_RANK[w]) worst.set(id, s);
    }
    const ids = [...firstOf.keys()].sort();
    const index = new Map(ids.map((id, i) => [id, i]));
    const rules: ReportingDescriptor[] = ids.map((id) => {
      const f = firstOf.get(id) as SarifFinding;
      const text = input.rules?.[`${tool}/${id}`];
      const severity = worst.get(id) as Severity;
      const help = text?.help ?? (f.detail?.trim() || f.title);
      return {
        id,
        shortDescription: { text: sentence(text?.short ?? f.title) },
        fullDescription: { text: sentence(help) },
        help: { text: sentence(help) },
        ...(text?.helpUri ? { helpUri: text.helpUri } : {}),
        defaultConfiguration: { level: sarifLevel(severity) },
        properties: {
          tags: [f.category],
          ...(SECURITY_SEVERITY[severity] ? { "security-severity": SECURITY_SEVERITY[severity] } : {}),
        },
      };
    });
    const results: Result[] = [
      ...current.map((f) => result(f, ruleIdOf(f), index.get(ruleIdOf(f)) as number, f.state ?? undefined)),
      ...fixed.map((f) => result(f, ruleIdOf(f), index.get(ruleIdOf(f)) as number, "absent")),
    ];
    const run: Run = {
      tool: {
        driver: {
          name: tool,
          ...(info.version ? { version: info.version } : {}),
          ...(info.informationUri ? { informationUri: info.informationUri } : {}),
          rules,
        },
      },
      automationDetails: { id: `clarity/${tool}/${input.build.build_id}` },
      ...(provenance ? { versionControlProvenance: provenance } : {}),
      results,
      properties: {
        build_id: input.build.build_id,
        ...(hasBaseline ? { baseline_build_id: input.build.baseline_build_id ?? null } : {}),
      },
    };
    return run;
  });

  return { $schema: SARIF_SCHEMA_URI, version: "2.1.0", runs };
}
