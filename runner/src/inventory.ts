/** The scanner's inventory: files, lines of code and languages of a workspace. */
import { extname } from "node:path";
import { listFiles, readText } from "./files";
import type { RunnerFinding } from "./protocol";

const LANGUAGES: Record<string, string> = {
  ".ts": "TypeScript",
  ".tsx": "TypeScript",
  ".mts": "TypeScript",
  ".cts": "TypeScript",
  ".js": "JavaScript",
  ".mjs": "JavaScript",
  ".cjs": "JavaScript",
  ".jsx": "JavaScript",
  ".py": "Python",
  ".go": "Go",
  ".rs": "Rust",
  ".java": "Java",
  ".kt": "Kotlin",
  ".rb": "Ruby",
  ".php": "PHP",
  ".cs": "C#",
  ".c": "C",
  ".h": "C",
  ".cpp": "C++",
  ".swift": "Swift",
  ".sql": "SQL",
  ".sh": "Shell",
  ".html": "HTML",
  ".css": "CSS",
};

export interface Inventory {
  files: number;
  lines: number;
  languages: Record<string, { files: number; lines: number }>;
}

export async function inventory(root: string): Promise<{ inventory: Inventory; finding: RunnerFinding }> {
  const files = await listFiles(root);
  const languages: Inventory["languages"] = {};
  let lines = 0;
  for (const f of files) {
    const lang = LANGUAGES[extname(f).toLowerCase()];
    if (!lang) continue;
    const text = await readText(root, f).catch(() => null);
    const n = text ? text.split("\n").filter((l) => l.trim() !== "").length : 0;
    const entry = (languages[lang] ??= { files: 0, lines: 0 });
    entry.files++;
    entry.lines += n;
    lines += n;
  }
  const inv = { files: files.length, lines, languages };
  const top = Object.entries(languages)
    .sort((a, b) => b[1].lines - a[1].lines)
    .map(([l, v]) => `${l} ${v.lines}`)
    .join(", ");
  return {
    inventory: inv,
    finding: {
      rule_id: "inventory",
      tool: "inventory",
      severity: "info",
      category: "inventory",
      title: `${files.length} files, ${lines} lines of code in ${Object.keys(languages).length} languages${top ? ` (${top})` : ""}`,
      detail: JSON.stringify(inv),
      file: null,
      line: null,
    },
  };
}
