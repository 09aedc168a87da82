// @ts-check
/**
 * axe-core (pinned in package.json) in the browser suite. The engine's source is evaluated in the
 * page through the DevTools protocol (`page.evaluate`), which the dashboard's strict CSP
 * (`script-src 'self'`) does not govern, so the page is checked under its real headers: no
 * `bypassCSP`, nothing served from elsewhere, works offline.
 *
 * Rules: WCAG 2.0/2.1 level A and AA (`wcag2a`, `wcag2aa`, `wcag21a`, `wcag21aa`), none disabled.
 * Serious and critical violations fail the test; moderate and minor ones are printed.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
/** The engine's source, read once. */
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
export const AXE_VERSION = /** @type {{ version: string }} */ (require("axe-core/package.json")).version;
export const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
/** Impacts that fail a page. */
export const BLOCKING = new Set(["serious", "critical"]);

/**
 * @typedef {{ id: string, impact: string, help: string, helpUrl: string, nodes: Array<{ target: string, html: string, summary: string }> }} AxeViolation
 */

/**
 * Runs axe over the whole document of `page` (injecting the engine when the page has none).
 * @param {import("playwright-core").Page} page
 * @returns {Promise<AxeViolation[]>}
 */
export async function runAxe(page) {
  const present = await page.evaluate(() => typeof (/** @type {any} */ (window).axe) === "object");
  if (!present) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    const axe = /** @type {any} */ (window).axe;
    const result = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return result.violations.map((/** @type {any} */ v) => ({
      id: v.id,
      impact: v.impact ?? "unknown",
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((/** @type {any} */ n) => ({
        target: n.target.join(" "),
        html: String(n.html).slice(0, 160),
        summary: String(n.failureSummary ?? "")
          .replace(/\s+/g, " ")
          .slice(0, 300),
      })),
    }));
  }, AXE_TAGS);
}

/**
 * One readable line per violation (and its first nodes).
 * @param {string} where
 * @param {AxeViolation} v
 */
export function formatViolation(where, v) {
  const nodes = v.nodes
    .slice(0, 5)
    .map((n) => `\n    ${n.target}  ${n.html}\n      ${n.summary}`)
    .join("");
  const more = v.nodes.length > 5 ? `\n    … ${v.nodes.length - 5} more` : "";
  return `${where}: [${v.impact}] ${v.id} ×${v.nodes.length} — ${v.help} (${v.helpUrl})${nodes}${more}`;
}
