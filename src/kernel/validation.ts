/**
 * The single validation wrapper: zod schemas at every HTTP boundary. Failures become
 * `validation_failed` (422) with `errors: [{path, message}]`; unparsable JSON becomes
 * `malformed_json` (400).
 */
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { AppError, type FieldError } from "./errors";
import { tagMiddleware } from "./route-meta";

export function zodIssues(error: {
  issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>;
}): FieldError[] {
  return error.issues.map((i) => ({
    path: i.path.length ? i.path.map(String).join(".") : "(root)",
    message: i.message,
  }));
}

/**
 * The route's validator for `target`; the schema is also what the OpenAPI document shows (src/kernel/route-meta.ts).
 */
export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) {
  const mw = zValidator(target, schema, (result) => {
    if (!result.success) {
      throw new AppError("validation_failed", `Invalid ${target}.`, { errors: zodIssues(result.error) });
    }
  });
  return tagMiddleware(mw, { kind: "validation", target, schema });
}

/** Parses a value that crossed a boundary (DO RPC input, KV read) or throws validation_failed. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what = "input"): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError("validation_failed", `Invalid ${what}.`, { errors: zodIssues(parsed.error) });
  return parsed.data;
}
