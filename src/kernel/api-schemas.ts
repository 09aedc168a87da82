/**
 * The shared pieces of every response schema: timestamps, cursors, the RFC 9457 `Problem`, and
 * the registry of named response schemas. Each domain writes its response DTO schemas once, beside
 * its request schemas (`*.schemas.ts`), and names them here with `registerResponses`; the OpenAPI
 * generator (src/http/openapi.document.ts) publishes every registered name as a
 * `components.schemas` entry, and the dashboard's JSDoc types are generated from that document.
 */
import { z } from "zod";
import { ERROR_CODES } from "./errors";

export const ts = z.string().describe("ISO-8601 UTC timestamp with microseconds, e.g. 2026-02-21T15:59:34.123000Z.");
export const nts = ts.nullable();
export const record = z.record(z.string(), z.unknown());
export const int = z.number().int();
export const seqCursor = int.nullable().describe("Pass as `cursor` for the next page; null on the last page.");
export const opaqueCursor = z
  .string()
  .nullable()
  .describe("Opaque; pass as `cursor` for the next page; null on the last page.");

/** Named response schemas: the name is the schema's `components.schemas` key. */
export const responseSchemas = z.registry<{ id: string }>();

/** Names response schemas (`{ BuildRun, … }`: the key is the name). Called once per schemas module. */
export function registerResponses(schemas: Record<string, z.ZodType>): void {
  for (const [id, schema] of Object.entries(schemas)) responseSchemas.add(schema, { id });
}

/** The registered name of a response schema, if it has one. */
export function responseName(schema: z.ZodType): string | undefined {
  return responseSchemas.get(schema)?.id;
}

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: int,
    detail: z.string().optional(),
    code: z.enum(ERROR_CODES).describe("Stable machine code; each maps to one HTTP status."),
    request_id: z.string().describe("Also in the `x-request-id` response header; quote it when reporting a problem."),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe("Field errors of `validation_failed`."),
  })
  .describe("RFC 9457 problem details (`application/problem+json`).");

registerResponses({ Problem });
