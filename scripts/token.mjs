#!/usr/bin/env node
/**
 * Mints a local development user token: `npm run --silent token -- <role> [sub]`.
 * Signs HS256 with JWT_SECRET from .dev.vars (created by `npm start`), issuer
 * `clarity-local-dev` (accepted only when ENVIRONMENT=development), valid 12 h.
 * Prints only the token on stdout; never prints the secret.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDevVars } from "./lib/dev-vars.mjs";
import { mintUserToken } from "./lib/user-token.mjs";

const ROLES = ["viewer", "operator", "security", "admin"];
const LOCAL_DEV_ISSUER = "clarity-local-dev";
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEV_VARS = resolve(ROOT, ".dev.vars");

function usage(message) {
  if (message) process.stderr.write(`error: ${message}\n`);
  process.stderr.write(`usage: npm run --silent token -- <${ROLES.join("|")}> [sub]\n`);
  process.exit(2);
}

function missingSecret(why) {
  process.stderr.write(
    `error: ${why}\nRun \`npm start\` once: it creates .dev.vars with a generated development JWT_SECRET.\n`,
  );
  process.exit(1);
}

const [role, subArg] = process.argv.slice(2);
if (role === undefined || role === "-h" || role === "--help") usage();
if (!ROLES.includes(role)) usage(`unknown role "${role}"`);
const sub = subArg !== undefined && subArg.trim() !== "" ? subArg.trim() : `dev-${role}`;

let text;
try {
  text = readFileSync(DEV_VARS, "utf8");
} catch {
  missingSecret(`${DEV_VARS} not found.`);
}
const vars = parseDevVars(text);
if (!vars.JWT_SECRET) missingSecret(`${DEV_VARS} has no JWT_SECRET.`);
const audience = vars.JWT_AUDIENCE || "authenticated";

const token = await mintUserToken(vars.JWT_SECRET, {
  sub,
  roles: [role],
  ttl: "12h",
  audience,
  issuer: LOCAL_DEV_ISSUER,
});

process.stdout.write(`${token}\n`);
