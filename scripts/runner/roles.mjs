// What each agent role actually does on a local repository checkout. Every role returns
// { status, summary, findings[], logs_excerpt, exit_code }. Nothing here writes to the repo.
import { spawn } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join, relative } from "node:path";

const SKIP_DIRS = new Set([".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", ".wrangler", "target"]);
const LANGUAGES = {
  ".ts": "TypeScript", ".tsx": "TypeScript", ".js": "JavaScript", ".mjs": "JavaScript", ".cjs": "JavaScript", ".jsx": "JavaScript",
  ".py": "Python", ".go": "Go", ".rs": "Rust", ".java": "Java", ".kt": "Kotlin", ".rb": "Ruby", ".php": "PHP", ".cs": "C#",
  ".c": "C", ".h": "C", ".cpp": "C++", ".swift": "Swift", ".sql": "SQL", ".sh": "Shell", ".html": "HTML", ".css": "CSS",
};
const MANIFESTS = ["package.json", "requirements.txt", "pyproject.toml", "Pipfile", "go.mod", "Cargo.toml", "pom.xml", "build.gradle", "Gemfile", "composer.json"];
const LOCKFILES = ["package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock", "go.sum", "Cargo.lock", "Gemfile.lock", "composer.lock"];
const MAX_FILES = 20_000;
const MAX_SCAN_BYTES = 512 * 1024;

/** Commands a runner never executes (the execution-policy built-ins of SPEC §4.8.3). */
const BLOCKED = [/\bgit\s+reset\s+--hard\b/i, /\bgit\s+clean\s+-[a-z]*f/i, /\brm\s+-(?:[a-z]*r[a-z]*f|[a-z]*f[a-z]*r)/i, /\bmkfs\./i, /\bdd\s+if=\S*\s+of=\/dev\//i, /\b(shutdown|reboot|poweroff)\b/i];
export function isBlockedCommand(cmd) {
  return BLOCKED.some((re) => re.test(cmd));
}

export async function listFiles(root) {
  const out = [];
  async function walk(dir) {
    if (out.length >= MAX_FILES) return;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) await walk(join(dir, entry.name));
      } else if (entry.isFile()) out.push(relative(root, join(dir, entry.name)));
      if (out.length >= MAX_FILES) return;
    }
  }
  await walk(root);
  return out.sort();
}

async function lines(path) {
  const s = await stat(path);
  if (s.size > MAX_SCAN_BYTES) return null;
  return (await readFile(path, "utf8")).split("\n");
}

export async function scanner(root) {
  const files = await listFiles(root);
  const byLanguage = {};
  let loc = 0;
  for (const f of files) {
    const lang = LANGUAGES[extname(f).toLowerCase()];
    if (!lang) continue;
    const ls = await lines(join(root, f));
    const n = ls ? ls.filter((l) => l.trim() !== "").length : 0;
    byLanguage[lang] = (byLanguage[lang] ?? 0) + n;
    loc += n;
  }
  const manifests = files.filter((f) => MANIFESTS.includes(f.split("/").pop()));
  const lockfiles = files.filter((f) => LOCKFILES.includes(f.split("/").pop()));
  const hasTests = files.some((f) => /(^|\/)(test|tests|__tests__|spec)\//.test(f) || /\.(test|spec)\.[jt]sx?$/.test(f) || /(^|\/)test_.*\.py$/.test(f));
  const findings = [
    { severity: "info", category: "inventory", title: `${files.length} files, ${loc} lines of code in ${Object.keys(byLanguage).length} languages`, detail: JSON.stringify({ languages: byLanguage, manifests }) },
  ];
  if (manifests.length > 0 && lockfiles.length === 0) findings.push({ severity: "low", category: "supply-chain", title: "No dependency lockfile", detail: `manifests: ${manifests.join(", ")}` });
  if (!hasTests) findings.push({ severity: "medium", category: "reliability", title: "No automated tests found" });
  const top = Object.entries(byLanguage).sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ${n}`).join(", ");
  return { status: "completed", summary: `${files.length} files, ${loc} LOC (${top || "no source"}); manifests: ${manifests.join(", ") || "none"}`, findings, logs_excerpt: files.slice(0, 50).join("\n"), exit_code: 0 };
}

/** Runs a command with a time limit; resolves { code, output, timedOut }. */
export function run(cmd, args, cwd, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    const add = (d) => { output = (output + d.toString()).slice(-16_000); };
    child.stdout.on("data", add);
    child.stderr.on("data", add);
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; try { process.kill(-child.pid, "SIGKILL"); } catch {} }, timeoutMs);
    child.on("error", (err) => { clearTimeout(timer); resolve({ code: 127, output: String(err), timedOut }); });
    child.on("close", (code) => { clearTimeout(timer); resolve({ code: code ?? 1, output, timedOut }); });
  });
}

async function exists(p) {
  try { await stat(p); return true; } catch { return false; }
}

export async function builder(root, timeoutMs) {
  let cmd = null;
  if (await exists(join(root, "package.json"))) {
    const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
    if (pkg.scripts?.test) cmd = ["npm", ["test", "--silent"]];
  } else if ((await exists(join(root, "pyproject.toml"))) || (await exists(join(root, "requirements.txt")))) cmd = ["python3", ["-m", "pytest", "-q"]];
  if (!cmd) return { status: "skipped", summary: "No test command found (package.json scripts.test, pytest)", findings: [{ severity: "medium", category: "reliability", title: "No runnable test command" }], logs_excerpt: "", exit_code: 0 };
  const line = [cmd[0], ...cmd[1]].join(" ");
  if (isBlockedCommand(line)) return { status: "failed", summary: "Command blocked by execution policy.", error: "blocked_command", findings: [], logs_excerpt: line, exit_code: 1 };
  const r = await run(cmd[0], cmd[1], root, timeoutMs);
  const ok = r.code === 0 && !r.timedOut;
  return {
    status: ok ? "completed" : "failed",
    summary: ok ? `Tests passed (${line})` : r.timedOut ? `Tests timed out after ${Math.round(timeoutMs / 1000)} s (${line})` : `Tests failed with exit code ${r.code} (${line})`,
    error: ok ? null : r.timedOut ? "test_timeout" : `tests_failed_exit_${r.code}`,
    findings: ok ? [] : [{ severity: "high", category: "reliability", title: r.timedOut ? "Test suite timed out" : "Test suite fails", detail: r.output.slice(-1500) }],
    logs_excerpt: r.output.slice(-4000),
    exit_code: r.code,
  };
}

const SECRET_PATTERNS = [
  ["critical", "Private key", /-----BEGIN (?:RSA |EC |OPENSSH |DSA |PGP )?PRIVATE KEY-----/],
  ["critical", "AWS access key id", /\bAKIA[0-9A-Z]{16}\b/],
  ["high", "GitHub token", /\bgh[pousr]_[A-Za-z0-9]{20,}\b/],
  ["high", "Slack token", /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/],
  ["high", "Hard-coded credential", /\b(?:password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)["']?\s*[:=]\s*["']([^"'\s$`{}]{8,})["']/i],
  ["high", "Credential in env file", /^\s*(?:export\s+)?[A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|API_KEY|PRIVATE_KEY)[A-Z0-9_]*\s*=\s*["']?([^\s"'#]{8,})/],
];
const CONFIG_PATTERNS = [
  ["medium", "Wildcard CORS", /Access-Control-Allow-Origin["']?\s*[:,]\s*["']\*["']|origin\s*:\s*["']\*["']|allow_origins\s*=\s*\[\s*["']\*["']\s*\]/i],
  ["medium", "Debug mode enabled", /\bDEBUG\s*=\s*(?:True|true|1)\b|app\.run\([^)]*debug\s*=\s*True|["']?debug["']?\s*:\s*true\b/],
];

/** Masks a secret: first 4 characters, then ****. */
export function mask(s) {
  return s.length <= 4 ? "****" : `${s.slice(0, 4)}****`;
}

export async function security(root) {
  const files = await listFiles(root);
  const findings = [];
  for (const f of files) {
    const name = f.split("/").pop();
    if (/^\.env(\..+)?$/.test(name) && !/\.(example|sample|template)$/.test(name)) findings.push({ severity: "high", category: "secret", title: "Committed .env file", file: f });
    if (/\.(pem|key|p12|pfx)$/.test(name)) findings.push({ severity: "high", category: "secret", title: "Committed key file", file: f });
    const ls = await lines(join(root, f)).catch(() => null);
    if (!ls) continue;
    ls.forEach((text, i) => {
      for (const [severity, title, re] of SECRET_PATTERNS) {
        const m = re.exec(text);
        if (m) findings.push({ severity, category: "secret", title, file: f, line: i + 1, detail: `match: ${mask(m[1] ?? m[0])}` });
      }
      for (const [severity, title, re] of CONFIG_PATTERNS) if (re.test(text)) findings.push({ severity, category: "configuration", title, file: f, line: i + 1 });
    });
  }
  const bySev = findings.reduce((a, f) => ({ ...a, [f.severity]: (a[f.severity] ?? 0) + 1 }), {});
  return { status: "completed", summary: `${findings.length} security findings ${JSON.stringify(bySev)}`, findings: findings.slice(0, 500), logs_excerpt: "", exit_code: 0 };
}

const RANK = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
const ADVICE = {
  secret: "Remove it from the repository, rotate the credential, and load it from a secret store.",
  configuration: "Restrict the setting for production (explicit CORS origins, debug off).",
  reliability: "Add or fix automated tests and run them in CI.",
  "supply-chain": "Commit a lockfile so installs are reproducible.",
};

export function planner(prior) {
  const actionable = prior.filter((f) => RANK[f.severity] >= 1).sort((a, b) => RANK[b.severity] - RANK[a.severity]);
  if (actionable.length === 0) return { status: "completed", summary: "No actionable findings: nothing to remediate.", findings: [], logs_excerpt: "", exit_code: 0 };
  const groups = new Map();
  for (const f of actionable) {
    const key = `${f.severity}|${f.title}`;
    const g = groups.get(key) ?? { ...f, files: [] };
    if (f.file) g.files.push(f.file);
    groups.set(key, g);
  }
  const steps = [...groups.values()].map((g, i) => `${i + 1}. [${g.severity}] ${g.title}${g.files.length ? ` (${[...new Set(g.files)].slice(0, 3).join(", ")})` : ""}: ${ADVICE[g.category] ?? "Review and fix."}`);
  return { status: "completed", summary: `Remediation plan:\n${steps.join("\n")}`, findings: [], logs_excerpt: "", exit_code: 0 };
}
