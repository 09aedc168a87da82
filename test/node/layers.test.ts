/**
 * The import direction of src/ (docs/architecture.md#layers): every folder sits on a layer and
 * may import only from folders on lower layers, so no folder cycle can form; and no file-level
 * import cycle exists. Imports are read with TypeScript's own pre-processor (static, type-only
 * and dynamic imports alike).
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "../../src");

/** Lower number = lower layer. A folder may import only folders with a strictly lower number. */
const LAYERS: Record<string, number> = {
  lib: 0, // pure utilities: import nothing from src
  kernel: 1, // config/env, errors, validation, logging, principal, route metadata, cursors
  db: 1, // the drizzle tables of the build entities
  audit: 2, // the append-only audit log every domain writes into its batches
  findings: 2, // the findings core: fingerprints, baselines, gate from findings, SARIF (pure)
  security: 3, // identity, capabilities, replay, rate limits, secrets, webhooks
  ops: 4, // metrics and the request observer
  planning: 5, // DAG shapes, planner, levels, the planner policy layer
  builds: 6, // the build domain: runner DO, run machine, dead letters, checkpoints
  program: 7, // the program plane over builds
  github: 8, // GitHub: deliveries start builds, results go back as check runs (issue 21)
  dev: 9, // development-only routes and migrations
  http: 10, // the HTTP edge: app assembly, middleware wiring, OpenAPI
  "(entry)": 11, // src/index.ts: the worker entry
};

type Edge = { from: string; to: string };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function resolveImport(from: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  const base = normalize(join(dirname(from), spec));
  for (const c of [base, `${base}.ts`, base.replace(/\.js$/, ".ts"), join(base, "index.ts")]) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      // next candidate
    }
  }
  return null;
}

/** File-level import edges of src/, as paths relative to src/ (imports leaving src/ are ignored). */
function importEdges(): Edge[] {
  return sourceFiles(SRC).flatMap((file) => {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    return info.importedFiles
      .map((f) => resolveImport(file, f.fileName))
      .filter((t): t is string => typeof t === "string" && t.startsWith(SRC) && t.endsWith(".ts"))
      .map((t) => ({ from: relative(SRC, file), to: relative(SRC, t) }));
  });
}

const folderOf = (file: string) => (file.includes("/") ? file.split("/")[0]! : "(entry)");

/** Folder edges that break the layering: importing a folder on the same or a higher layer. */
function layerViolations(edges: Edge[], layers: Record<string, number>): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const a = folderOf(from);
    const b = folderOf(to);
    if (a === b) continue;
    if (layers[a] === undefined || layers[b] === undefined) {
      out.push(`${from} -> ${to}: folder ${layers[a] === undefined ? a : b} has no layer`);
    } else if (layers[b]! >= layers[a]!) {
      out.push(`${from} -> ${to}: ${a} (layer ${layers[a]}) may not import ${b} (layer ${layers[b]})`);
    }
  }
  return out;
}

/** Strongly connected components with more than one file (Tarjan), i.e. import cycles. */
function fileCycles(edges: Edge[]): string[][] {
  const graph = new Map<string, string[]>();
  for (const { from, to } of edges) graph.set(from, [...(graph.get(from) ?? []), to]);
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) cycles.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

describe("the import direction of src/", () => {
  const edges = importEdges();

  it("reads the real import graph", () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual({ from: "builds/build-runner.do.ts", to: "builds/run-machine.ts" });
  });

  it("gives every folder of src/ a layer", () => {
    const folders = new Set(sourceFiles(SRC).map((f) => folderOf(relative(SRC, f))));
    expect([...folders].filter((f) => LAYERS[f] === undefined)).toEqual([]);
  });

  it("imports only from lower layers (no folder cycle)", () => {
    expect(layerViolations(edges, LAYERS)).toEqual([]);
  });

  it("has no file-level import cycle", () => {
    expect(fileCycles(edges)).toEqual([]);
  });

  it("the checks catch what they are for", () => {
    const bad: Edge[] = [
      { from: "lib/a.ts", to: "kernel/b.ts" },
      { from: "builds/x.ts", to: "planning/y.ts" },
      { from: "planning/y.ts", to: "builds/x.ts" },
    ];
    expect(layerViolations(bad, LAYERS)).toEqual([
      "lib/a.ts -> kernel/b.ts: lib (layer 0) may not import kernel (layer 1)",
      "planning/y.ts -> builds/x.ts: planning (layer 5) may not import builds (layer 6)",
    ]);
    expect(fileCycles(bad)).toEqual([["builds/x.ts", "planning/y.ts"]]);
    expect(layerViolations([{ from: "newfolder/a.ts", to: "lib/b.ts" }], LAYERS)[0]).toContain("has no layer");
  });
});

/**
 * Files over `maxLines` lines and lines over `maxWidth` characters (JavaScript string length; Biome
 * formats code to 120 columns but leaves long strings, templates and comments alone).
 */
function sizeViolations(files: { path: string; text: string }[], maxLines: number, maxWidth: number): string[] {
  return files.flatMap(({ path, text }) => {
    const lines = text.split("\n");
    if (text.endsWith("\n")) lines.pop();
    const tooLong = lines.length > maxLines ? [`${path}: ${lines.length} lines (over ${maxLines})`] : [];
    const tooWide = lines.flatMap((line, i) =>
      line.length > maxWidth ? [`${path}:${i + 1}: ${line.length} characters (over ${maxWidth})`] : [],
    );
    return [...tooLong, ...tooWide];
  });
}

describe("the size of src/", () => {
  it("src stays small and narrow", () => {
    const files = sourceFiles(SRC)
      .map((f) => ({ path: relative(SRC, f), text: readFileSync(f, "utf8") }))
      // Generated data, not code: the dashboard's files (scripts/lib/dashboard-module.mjs).
      .filter((f) => !f.text.startsWith("// Generated by "));
    expect(files.length).toBeGreaterThan(100);
    expect(sizeViolations(files, 400, 120)).toEqual([]);
  });

  it("the size check catches what it is for", () => {
    const ok = `${"x".repeat(120)}\n`.repeat(400);
    expect(sizeViolations([{ path: "a.ts", text: ok }], 400, 120)).toEqual([]);
    expect(sizeViolations([{ path: "b.ts", text: `${ok}y\n` }], 400, 120)).toEqual(["b.ts: 401 lines (over 400)"]);
    expect(sizeViolations([{ path: "c.ts", text: `a\n${"—".repeat(121)}\n` }], 400, 120)).toEqual([
      "c.ts:2: 121 characters (over 120)",
    ]);
  });
});
