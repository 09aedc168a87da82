// Reading the project's local `.dev.vars` (created by `npm start`), shared by the local scripts.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const DEV_VARS_PATH = fileURLToPath(new URL("../../.dev.vars", import.meta.url));

/** Parses dotenv-style KEY=VALUE lines (comments, `export `, and single/double quotes tolerated). */
export function parseDevVars(text) {
  const vars = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    const raw = m[2].trim();
    const quoted = /^(["'])(.*)\1\s*(?:#.*)?$/.exec(raw);
    vars[m[1]] = quoted ? quoted[2] : raw.replace(/\s+#.*$/, "");
  }
  return vars;
}

/** The variables of `.dev.vars`, or null when the file does not exist. */
export function readDevVars(path = DEV_VARS_PATH) {
  return existsSync(path) ? parseDevVars(readFileSync(path, "utf8")) : null;
}
