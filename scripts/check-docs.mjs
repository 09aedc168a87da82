#!/usr/bin/env node
// Every command the deploy guide and the runbooks name must exist (npm run docs:check; part of
// npm test). Scans docs/deploy.md and docs/runbooks/*.md — fenced code blocks line by line and
// inline code spans — and checks:
//   npm run <script> / npm test / npm start   → the script is in package.json
//   node scripts/<file>                      → the file exists
//   [npx] wrangler <subcommand…> [--flags]    → `wrangler <subcommand…> --help` of the pinned
//     wrangler succeeds offline, its usage line names exactly that subcommand (extra words must
//     fit its positional arguments), and every --flag appears in its help.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const files = [
  "docs/deploy.md",
  ...readdirSync(join(root, "docs/runbooks"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/runbooks/${f}`),
];
const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts ?? {};
const wrangler = join(root, "node_modules/.bin/wrangler");
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
};

/** Code the docs show: fenced lines (continuations joined, `$ ` prompts and # comments dropped) and inline spans. */
function snippets(markdown) {
  const out = [];
  let fenced = false;
  let pending = "";
  for (const raw of markdown.split("\n")) {
    if (/^\s*```/.test(raw)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) {
      let line = raw.replace(/^\s*\$\s+/, "");
      line = line.replace(/(^|\s)#(?!!).*$/, "$1");
      if (line.trimEnd().endsWith("\\")) {
        pending += `${line.trimEnd().slice(0, -1)} `;
        continue;
      }
      out.push(pending + line);
      pending = "";
    } else {
      for (const m of raw.matchAll(/`([^`]+)`/g)) out.push(m[1]);
    }
  }
  return out;
}

const tokenize = (s) => s.match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
const SHELL_STOP = /^(\||\|\||&&|;|\)|>|>>|2>&1)$/;

/** `wrangler …` invocations in a snippet: the argument tokens up to a shell operator. */
function wranglerCalls(snippet) {
  const calls = [];
  const tokens = tokenize(snippet);
  for (let i = 0; i < tokens.length; i++) {
    if (
      tokens[i] !== "wrangler" ||
      (i > 0 && !/^(npx|\$\(|\(|&&|;|\|)$/.test(tokens[i - 1]) && !tokens[i - 1].endsWith("("))
    )
      continue;
    const args = [];
    for (let j = i + 1; j < tokens.length && !SHELL_STOP.test(tokens[j]); j++) args.push(tokens[j].replace(/\)$/, ""));
    calls.push(args);
  }
  return calls;
}

function run(args) {
  return new Promise((resolve) => {
    const child = spawn(wrangler, [...args, "--help"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    child.on("close", (code) => resolve({ code, text: text.replace(/\x1b\[[0-9;]*m/g, "") }));
  });
}

const helpCache = new Map();
function help(path) {
  const key = path.join(" ");
  if (!helpCache.has(key)) helpCache.set(key, run(path));
  return helpCache.get(key);
}

function flagTypes(text) {
  const types = new Map();
  for (const m of text.matchAll(/(?:^|\s)(--[a-z0-9-]+)\b[^\n[]*\[(string|boolean|number|array|choices:[^\]]*)\]/gm))
    types.set(m[1], m[2]);
  return types;
}

async function checkWrangler(args) {
  const firstFlag = args.findIndex((a) => a.startsWith("-"));
  const positionals = (firstFlag === -1 ? args : args.slice(0, firstFlag)).filter((a) => a !== "");
  const { code, text } = await help(positionals);
  const shown = `wrangler ${args.join(" ")}`;
  if (code !== 0)
    return `${shown}: \`wrangler ${positionals.join(" ")} --help\` failed (${text.split("\n").find((l) => l.trim()) ?? code})`;
  const usage = text.split("\n").find((l) => l.startsWith("wrangler"));
  if (!usage) return `${shown}: no usage line in its help`;
  const path = usage
    .replace(/^wrangler\s*/, "")
    .split(/\s+/)
    .filter((w) => w && !/^[<[]/.test(w) && !w.startsWith("--"));
  const slots = usage.match(/[<[][^>\]]*[>\]]/g) ?? [];
  if (path.length === 0) return `${shown}: not a wrangler subcommand`;
  if (path.some((w, i) => positionals[i] !== w))
    return `${shown}: is \`wrangler ${path.join(" ")}\`, not \`wrangler ${positionals.slice(0, path.length).join(" ")}\``;
  let extra = positionals.length - path.length;
  const types = flagTypes(text);
  const rest = firstFlag === -1 ? [] : args.slice(firstFlag);
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i];
    if (!token.startsWith("-")) {
      extra++;
      continue;
    }
    if (!token.startsWith("--")) continue; // short flags (-m, -y) are aliases shown in help
    const [flag, value] = token.split("=", 2);
    if (!new RegExp(`(^|\\s)${flag}\\b`, "m").test(text))
      return `${shown}: \`wrangler ${path.join(" ")}\` has no ${flag}`;
    if (value === undefined && types.get(flag) && types.get(flag) !== "boolean") i++; // its value
  }
  const variadic = slots.some((s) => s.includes(".."));
  if (!variadic && extra > slots.length)
    return `${shown}: \`wrangler ${path.join(" ")}\` takes ${slots.length} argument(s) (${slots.join(" ") || "none"})`;
  return null;
}

/** Checks every command in `sources` ([{file, text}]); returns the problems. */
async function checkAll(sources) {
  const problems = [];
  const wranglerChecks = [];
  let commands = 0;
  for (const { file, text } of sources) {
    for (const snippet of snippets(text)) {
      for (const m of snippet.matchAll(/\bnpm\s+(?:run\s+(?:--silent\s+)?([\w:.-]+)|(test|start))\b/g)) {
        commands++;
        const name = m[1] ?? m[2];
        if (!(name in scripts)) problems.push(`${file}: npm script "${name}" does not exist in package.json`);
      }
      for (const m of snippet.matchAll(/\bnode\s+(scripts\/[\w./-]+)/g)) {
        commands++;
        if (!existsSync(join(root, m[1]))) problems.push(`${file}: ${m[1]} does not exist`);
      }
      for (const args of wranglerCalls(snippet)) {
        commands++;
        wranglerChecks.push(() => checkWrangler(args).then((p) => p && problems.push(`${file}: ${p}`)));
      }
    }
  }
  // A few at a time: each distinct help is a wrangler start (~1 s); repeats are cached.
  for (let i = 0; i < wranglerChecks.length; i += 6)
    await Promise.all(wranglerChecks.slice(i, i + 6).map((check) => check()));
  return { problems: [...new Set(problems)], commands };
}

// The checker checks itself first: each of these must be caught, and the good ones must pass.
const SELF_TEST = [
  ["```bash\nnpx wrangler versoins list\n```", true],
  ["```bash\nnpx wrangler d1 migrations aply DB --remote\n```", true],
  ["```bash\nnpx wrangler d1 migrations apply DB --remotely\n```", true],
  ["`npx wrangler rollback <version-id> extra-arg`", true],
  ["`npm run no-such-script`", true],
  ["```sh\nnode scripts/no-such-file.mjs\n```", true],
  [
    "```bash\nnpx wrangler d1 time-travel restore DB --timestamp 2026-05-01T12:00:00Z   # note\nnpm run deploy\n```",
    false,
  ],
  ['`npx wrangler rollback <version-id> --message "why"` and `npm test`', false],
];
const self = await Promise.all(
  SELF_TEST.map(async ([text, bad], i) => ({
    i,
    bad,
    found: (await checkAll([{ file: `self-test-${i}`, text }])).problems,
  })),
);
const broken = self.filter((t) => t.bad !== t.found.length > 0);
if (broken.length > 0) {
  console.error(
    `docs:check self-test failed:\n${broken.map((t) => `  case ${t.i} (${t.bad ? "should fail" : "should pass"}): ${t.found.join("; ") || "no problem found"}`).join("\n")}`,
  );
  process.exit(1);
}

const { problems, commands } = await checkAll(
  files.map((file) => ({ file, text: readFileSync(join(root, file), "utf8") })),
);
if (problems.length > 0) {
  console.error(`docs:check: ${problems.length} problem(s) in ${files.length} files:\n${problems.join("\n")}`);
  process.exit(1);
}
console.log(
  `docs:check: ${commands} commands in ${files.length} files exist (${helpCache.size} wrangler subcommands checked against wrangler's help; self-test ${SELF_TEST.length} cases)`,
);
