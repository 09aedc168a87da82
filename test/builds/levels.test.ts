import { describe, expect, it } from "vitest";
import { levelIndex, computeLevels, tryComputeLevels } from "../../src/planning/levels";
import type { LevelNode } from "../../src/planning/levels";
import { AppError } from "../../src/kernel/errors";

const n = (node_id: string, ...depends_on: string[]): LevelNode => ({ node_id, depends_on });

describe("computeLevels", () => {
  const valid: Array<{ name: string; nodes: LevelNode[]; levels: string[][] }> = [
    { name: "empty DAG", nodes: [], levels: [] },
    { name: "single node", nodes: [n("a")], levels: [["a"]] },
    {
      name: "SPEC example a:[] b:[a] c:[a] d:[b,c]",
      nodes: [n("a"), n("b", "a"), n("c", "a"), n("d", "b", "c")],
      levels: [["a"], ["b", "c"], ["d"]],
    },
    {
      name: "levels sorted lexicographically regardless of input order",
      nodes: [n("zeta"), n("Beta"), n("alpha"), n("d", "zeta"), n("c", "alpha")],
      levels: [
        ["Beta", "alpha", "zeta"],
        ["c", "d"],
      ],
    },
    {
      name: "node waits for its last remaining dependency",
      nodes: [n("a"), n("b", "a"), n("c", "a", "b")],
      levels: [["a"], ["b"], ["c"]],
    },
    {
      name: "repeated dependency entry counts once",
      nodes: [n("a"), n("b", "a", "a")],
      levels: [["a"], ["b"]],
    },
    {
      name: "disconnected components",
      nodes: [n("x"), n("y", "x"), n("p"), n("q", "p"), n("r", "q")],
      levels: [["p", "x"], ["q", "y"], ["r"]],
    },
  ];

  it.each(valid)("$name", ({ nodes, levels }) => {
    expect(computeLevels(nodes)).toEqual(levels);
    expect(tryComputeLevels(nodes)).toEqual({ ok: true, levels });
  });

  const invalid: Array<{ name: string; nodes: LevelNode[]; message: string }> = [
    { name: "two-node cycle", nodes: [n("a", "b"), n("b", "a")], message: "dag_cycle_detected" },
    {
      name: "cycle behind a valid root",
      nodes: [n("root"), n("a", "root", "c"), n("b", "a"), n("c", "b")],
      message: "dag_cycle_detected",
    },
    { name: "unknown dependency", nodes: [n("a"), n("b", "a", "ghost")], message: "missing_dependency:ghost" },
    { name: "duplicate id", nodes: [n("a"), n("b", "a"), n("a")], message: "duplicate_node_id:a" },
    { name: "self dependency", nodes: [n("a"), n("b", "b")], message: "self_dependency:b" },
    {
      name: "duplicate ids are rejected before dependency checks",
      nodes: [n("a", "a"), n("b", "ghost"), n("b")],
      message: "duplicate_node_id:b",
    },
    {
      name: "per node: self dependency is checked before unknown dependencies",
      nodes: [n("a", "ghost", "a")],
      message: "self_dependency:a",
    },
    {
      name: "nodes are checked in list order",
      nodes: [n("a", "ghost"), n("b", "b")],
      message: "missing_dependency:ghost",
    },
    {
      name: "first unknown dependency of a node is reported",
      nodes: [n("a", "x1", "x2")],
      message: "missing_dependency:x1",
    },
  ];

  it.each(invalid)("rejects $name with invalid_dag $message", ({ nodes, message }) => {
    expect(tryComputeLevels(nodes)).toEqual({ ok: false, message });
    let thrown: unknown;
    try {
      computeLevels(nodes);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppError);
    const appErr = thrown as AppError;
    expect(appErr.code).toBe("invalid_dag");
    expect(appErr.status).toBe(422);
    expect(appErr.detail).toBe(message);
    expect(appErr.message).toBe(message);
  });
});

describe("levelIndex", () => {
  it("maps every node id to its level number", () => {
    const index = levelIndex([["a"], ["b", "c"], ["d"]]);
    expect([...index.entries()]).toEqual([
      ["a", 0],
      ["b", 1],
      ["c", 1],
      ["d", 2],
    ]);
  });

  it("is empty for no levels", () => {
    expect(levelIndex([]).size).toBe(0);
  });
});
