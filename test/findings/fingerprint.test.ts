import { describe, expect, it } from "vitest";
import type { ScanFinding } from "../../src/findings/finding";
import {
  fingerprintFindings,
  fingerprintKey,
  fingerprintMaterials,
  maskSecrets,
  normaliseContent,
} from "../../src/findings/fingerprint";
import { scanA, scanB } from "./fixtures";

const secret: ScanFinding = {
  rule_id: "aws/AWSAccessKeyID",
  tool: "secretlint",
  severity: "critical",
  category: "secret",
  title: "found AWS Access Key ID",
  file: "config/aws.ts",
  line: 3,
  column: 22,
  snippet: 'const accessKeyId = "****************";',
};
const one = async (f: ScanFinding) => (await fingerprintFindings([f]))[0]?.fingerprint;

describe("fingerprintFindings", () => {
  it("gives 32 lowercase hex characters, the same for the same input", async () => {
    const a = await one(secret);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(await one({ ...secret })).toBe(a);
  });

  it("keeps the fingerprint when the line, column and end line shift", async () => {
    expect(await one({ ...secret, line: 40, column: 1, end_line: 41 })).toBe(await one(secret));
  });

  it("ignores severity, detail and whitespace changes in the snippet", async () => {
    const moved = {
      ...secret,
      severity: "high",
      detail: "other",
      snippet: '   const  accessKeyId =\t"****************";  ',
    };
    expect(await one(moved)).toBe(await one(secret));
  });

  it("keeps the fingerprint when a rotated secret has another value or mask length", async () => {
    const raw = { ...secret, snippet: 'const accessKeyId = "AKIAIOSFODNN7EXAMPLE";' };
    const rotated = { ...secret, snippet: 'const accessKeyId = "AKIAJ7Q2Z4EXAMPLE000";' };
    const masked = { ...secret, snippet: 'const accessKeyId = "********";' };
    expect(await one(rotated)).toBe(await one(raw));
    expect(await one(masked)).toBe(await one(secret));
    expect(normaliseContent(raw.snippet)).not.toContain("AKIA");
  });

  it.each([
    ["another file", { file: "config/gcp.ts" }],
    ["another rule", { rule_id: "aws/AWSSecretAccessKey" }],
    ["another tool", { tool: "gitleaks" }],
    ["another line content", { snippet: 'const otherKeyId = "****************";' }],
  ])("changes with %s", async (_, change) => {
    expect(await one({ ...secret, ...change })).not.toBe(await one(secret));
  });

  it("treats ./path, path and back-slashed paths as one file", async () => {
    expect(await one({ ...secret, file: "./config/aws.ts" })).toBe(await one(secret));
    expect(await one({ ...secret, file: "config\\aws.ts" })).toBe(await one(secret));
  });

  it("gives two identical findings in one file distinct fingerprints, stable when both shift", async () => {
    const dupA = scanA.filter((f) => f.rule_id === "no-inner-html");
    const [p, q] = await fingerprintFindings(dupA);
    expect(p?.fingerprint).not.toBe(q?.fingerprint);
    const shifted = await fingerprintFindings(dupA.map((f) => ({ ...f, line: (f.line ?? 0) + 7 })).reverse());
    // Input order does not matter: occurrence follows the line order.
    expect(shifted.map((f) => f.fingerprint).sort()).toEqual([p?.fingerprint, q?.fingerprint].sort());
    expect(shifted.find((f) => f.line === 27)?.fingerprint).toBe(p?.fingerprint);
  });

  it("makes every fingerprint of a batch unique", async () => {
    const prints = (await fingerprintFindings([...scanA, ...scanA])).map((f) => f.fingerprint);
    expect(new Set(prints).size).toBe(prints.length);
  });

  it("keeps every finding of scan A that scan B still has, across the line shift", async () => {
    const a = new Set((await fingerprintFindings(scanA)).map((f) => f.fingerprint));
    const b = (await fingerprintFindings(scanB)).map((f) => f.fingerprint);
    expect(b.filter((x) => a.has(x))).toHaveLength(scanA.length - 1);
  });

  it("without a snippet, tells findings apart by title with digits normalised", async () => {
    const t: ScanFinding = {
      rule_id: "test-suite-fails",
      tool: "builder",
      severity: "high",
      category: "reliability",
      title: "Test suite fails (3 failed): exit 1",
    };
    expect(await one({ ...t, title: "Test suite fails (4 failed): exit 1" })).toBe(await one(t));
    expect(await one({ ...t, title: "Test suite timed out" })).not.toBe(await one(t));
  });

  it("keys a finding without a rule id on its category and title", () => {
    const k = fingerprintKey({
      severity: "low",
      category: "Style",
      title: "Trailing  whitespace",
      file: "a.md",
      line: 2,
    });
    expect(k).toEqual(["", "~style/Trailing whitespace", "a.md", ""]);
  });

  it("never hashes the line number", () => {
    const [m] = fingerprintMaterials([{ ...secret, line: 987_654 }]);
    expect(m).not.toContain("987654");
  });
});

describe("maskSecrets", () => {
  it.each([
    ['token = "ghp_0123456789abcdefghijABCDEFGHIJ0123"', 'token = "***"'],
    ["url: https://deploy:hunter2@example.com/repo.git", "url: https://***@example.com/repo.git"],
    ["key=sk-abcdefABCDEF0123456789xyz", "key=***"],
    ['const password = "*****";', 'const password = "***";'],
    ["const total = computeTotalForCustomer(order);", "const total = computeTotalForCustomer(order);"],
  ])("masks %s", (input, out) => {
    expect(maskSecrets(input)).toBe(out);
  });
});
