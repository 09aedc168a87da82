/** Walking a workspace: regular files only (symlinks are not followed), vendored dirs skipped. */
import { lstat, readFile, readdir } from "node:fs/promises";
import { join, relative } from "node:path";

const SKIP_DIRS = new Set([
  ".git",
  "node_modules",
  ".venv",
  "venv",
  "__pycache__",
  "dist",
  "build",
  ".wrangler",
  "target",
  "vendor",
]);
export const MAX_FILES = 20_000;
export const MAX_TEXT_BYTES = 512 * 1024;

export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (out.length >= MAX_FILES) return;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(join(dir, e.name));
      } else if (e.isFile()) out.push(relative(root, join(dir, e.name)));
    }
  };
  await walk(root);
  return out;
}

/** The file's text, or null when it is large, binary or not a regular file. */
export async function readText(root: string, file: string): Promise<string | null> {
  const p = join(root, file);
  const s = await lstat(p);
  if (!s.isFile() || s.size > MAX_TEXT_BYTES) return null;
  const buf = await readFile(p);
  if (buf.subarray(0, 8000).includes(0)) return null;
  return buf.toString("utf8");
}
