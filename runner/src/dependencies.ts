/**
 * Dependency inventory from manifests and lockfiles (npm/pnpm/yarn, requirements.txt/poetry,
 * go.mod) with offline checks: dependencies from Git or URLs, packages with install scripts
 * (package-lock `hasInstallScript`, the root package's own install hooks), and unpinned ranges
 * without a lockfile. No registry is contacted.
 */
import { readText } from "./files";
import type { RunnerFinding } from "./protocol";

const URL_SPEC = /^(git\+|git:|github:|gitlab:|bitbucket:|https?:|file:|ssh:)/i;
const UNPINNED_NPM = /^(\^|~|\*|>|<|latest$|x$|$)|\|\||\s-\s|\.x\b/i;

/** 1-based line of the first line of `text` containing `needle`, else null. */
function lineOf(text: string, needle: string): number | null {
  const i = text.indexOf(needle);
  return i === -1 ? null : text.slice(0, i).split("\n").length;
}

function finding(
  rule_id: string,
  severity: string,
  title: string,
  file: string,
  text: string,
  needle: string,
  detail: string,
): RunnerFinding {
  const line = lineOf(text, needle);
  return {
    rule_id,
    tool: "dependencies",
    severity,
    category: "supply-chain",
    title,
    file,
    line,
    snippet: line ? (text.split("\n")[line - 1] ?? "").trim().slice(0, 300) : null,
    detail,
  };
}

export async function scanDependencies(
  root: string,
  files: readonly string[],
): Promise<{ findings: RunnerFinding[]; counts: Record<string, number> }> {
  const out: RunnerFinding[] = [];
  const counts: Record<string, number> = {};
  const has = new Set(files);
  for (const file of files) {
    const base = file.split("/").pop() ?? file;
    const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
    if (base === "package.json") {
      const text = await readText(root, file);
      if (!text) continue;
      let pkg: Record<string, unknown>;
      try {
        pkg = JSON.parse(text) as Record<string, unknown>;
      } catch {
        continue;
      }
      const locked = ["package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock"].some((l) =>
        has.has(dir + l),
      );
      const scripts = (pkg.scripts ?? {}) as Record<string, unknown>;
      for (const hook of ["preinstall", "install", "postinstall"]) {
        if (typeof scripts[hook] === "string")
          out.push(
            finding(
              "npm-install-hook",
              "medium",
              `The package runs a \`${hook}\` script on install`,
              file,
              text,
              `"${hook}"`,
              "Install hooks run on every install; prefer explicit build steps.",
            ),
          );
      }
      for (const section of ["dependencies", "devDependencies", "optionalDependencies"]) {
        const deps = (pkg[section] ?? {}) as Record<string, unknown>;
        for (const [name, spec] of Object.entries(deps)) {
          if (typeof spec !== "string") continue;
          counts.npm = (counts.npm ?? 0) + 1;
          if (URL_SPEC.test(spec) || (spec.includes("/") && !spec.startsWith("npm:") && !/^[\^~<>=\d]/.test(spec))) {
            out.push(
              finding(
                "dependency-from-url",
                "medium",
                `Dependency \`${name}\` comes from Git or a URL, not a registry`,
                file,
                text,
                `"${name}"`,
                "Not reviewable or reproducible like a registry release; pin a published version.",
              ),
            );
          } else if (!locked && UNPINNED_NPM.test(spec.trim())) {
            out.push(
              finding(
                "unpinned-dependency",
                "low",
                `Dependency \`${name}\` has an unpinned range (${spec}) and there is no lockfile`,
                file,
                text,
                `"${name}"`,
                "Commit a lockfile or pin exact versions.",
              ),
            );
          }
        }
      }
    } else if (base === "package-lock.json" || base === "npm-shrinkwrap.json") {
      const text = await readText(root, file);
      if (!text) continue;
      let lock: { packages?: Record<string, { hasInstallScript?: boolean; resolved?: string; version?: string }> };
      try {
        lock = JSON.parse(text) as typeof lock;
      } catch {
        continue;
      }
      for (const [key, p] of Object.entries(lock.packages ?? {})) {
        if (key === "") continue;
        const name = key.replace(/^.*node_modules\//, "");
        if (p.hasInstallScript)
          out.push(
            finding(
              "dependency-install-script",
              "medium",
              `Dependency \`${name}\` runs an install script`,
              file,
              text,
              `"${key}"`,
              "Its install script runs code on every install; review it or install with scripts disabled.",
            ),
          );
        if (p.resolved && /^(git\+|git:|ssh:|file:)/.test(p.resolved))
          out.push(
            finding(
              "dependency-from-url",
              "medium",
              `Dependency \`${name}\` is resolved from Git or a file`,
              file,
              text,
              `"${key}"`,
              "Pin a published registry version.",
            ),
          );
      }
    } else if (/^requirements.*\.txt$/.test(base)) {
      const text = await readText(root, file);
      if (!text) continue;
      const locked = has.has(`${dir}poetry.lock`) || has.has(`${dir}Pipfile.lock`);
      for (const raw of text.split("\n")) {
        const l = raw.replace(/#.*/, "").trim();
        if (!l || l.startsWith("-")) continue;
        counts.pypi = (counts.pypi ?? 0) + 1;
        if (/(git\+|https?:\/\/|@\s*file:)/.test(l))
          out.push(
            finding(
              "dependency-from-url",
              "medium",
              `Requirement \`${l.slice(0, 80)}\` comes from Git or a URL`,
              file,
              text,
              raw,
              "Pin a published release with a hash.",
            ),
          );
        else if (!locked && !/==/.test(l))
          out.push(
            finding(
              "unpinned-dependency",
              "low",
              `Requirement \`${l.slice(0, 80)}\` is not pinned (==) and there is no lockfile`,
              file,
              text,
              raw,
              "Pin versions (pip-compile) or use a lockfile.",
            ),
          );
      }
    } else if (base === "pyproject.toml") {
      const text = await readText(root, file);
      if (!text) continue;
      for (const raw of text.split("\n"))
        if (/\{\s*git\s*=/.test(raw))
          out.push(
            finding(
              "dependency-from-url",
              "medium",
              `Dependency from Git: ${raw.trim().slice(0, 80)}`,
              file,
              text,
              raw,
              "Pin a published release.",
            ),
          );
    } else if (base === "go.mod") {
      const text = await readText(root, file);
      if (!text) continue;
      counts.go = (text.match(/^\s*(require\s+)?[a-z0-9.-]+\.[a-z]{2,}\/\S+\s+v\S+/gm) ?? []).length;
      for (const raw of text.split("\n"))
        if (/^\s*replace\s+.*=>\s*(\.{1,2}\/|\/)/.test(raw))
          out.push(
            finding(
              "go-local-replace",
              "low",
              `A module is replaced by a local path: ${raw.trim().slice(0, 80)}`,
              file,
              text,
              raw,
              "Local replaces do not build elsewhere; publish and pin the module.",
            ),
          );
    }
  }
  return { findings: out, counts };
}
