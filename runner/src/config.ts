/**
 * The runner's configuration, parsed once from the environment with zod (README "Runner",
 * docs/deploy.md). Development defaults let `npm start` work with no settings; production
 * (RUNNER_ENVIRONMENT=production) has no default repository roots.
 */
import os from "node:os";
import { resolve } from "node:path";
import { z } from "zod";

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);
const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? "")
      .split(/[,:\n]/)
      .map((s) => s.trim())
      .filter(Boolean),
  );

export const RunnerConfigSchema = z.object({
  RUNNER_ENVIRONMENT: z.enum(["development", "test", "production"]).default("development"),
  /** whsec_… — the first of the control plane's RUNNER_SHARED_SECRETS. */
  RUNNER_SHARED_SECRET: z.string().startsWith("whsec_"),
  RUNNER_HOST: z.string().default("127.0.0.1"),
  RUNNER_PORT: int(8788, 0, 65535),
  /** Absolute directories a local repository (file:// or a path) must be under. */
  RUNNER_REPO_ROOTS: list,
  /** Where per-run workspaces are created (each removed after its run). */
  RUNNER_WORK_DIR: z.string().default(resolve(os.tmpdir(), "clarity-runner")),
  RUNNER_MAX_NODE_SECONDS: int(300, 1, 86_400),
  RUNNER_CLONE_TIMEOUT_SECONDS: int(120, 1, 3600),
  RUNNER_MAX_REPO_MB: int(200, 1, 100_000),
  RUNNER_TEST_TIMEOUT_SECONDS: int(300, 1, 86_400),
  RUNNER_OUTPUT_CAP_BYTES: int(1_048_576, 1024, 64 * 1_048_576),
  /** Extra CA bundle for https clones (a private Git host, GitHub Enterprise); empty = system CAs. */
  RUNNER_GIT_CA_FILE: z.string().optional(),
  /** The bubblewrap binary; missing → builder runs are skipped with `sandbox_unavailable`. */
  RUNNER_BWRAP: z.string().default("/usr/bin/bwrap"),
});
export type RunnerConfig = z.infer<typeof RunnerConfigSchema>;

/**
 * Parses `env`. In development the repository roots default to the OS temporary directory and
 * `checkout` (this repository), so a scan of a local fixture or of the checkout itself works.
 */
export function loadRunnerConfig(env: Record<string, string | undefined>, checkout: string): RunnerConfig {
  const c = RunnerConfigSchema.parse(env);
  if (c.RUNNER_REPO_ROOTS.length === 0 && c.RUNNER_ENVIRONMENT !== "production")
    c.RUNNER_REPO_ROOTS = [os.tmpdir(), checkout];
  c.RUNNER_REPO_ROOTS = c.RUNNER_REPO_ROOTS.map((r) => resolve(r));
  return c;
}
