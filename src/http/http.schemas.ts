/** Response schemas of the routes the edge serves itself (health, this OpenAPI document). */
import { z } from "zod";
import { registerResponses } from "../kernel/api-schemas";

export const Health = z.object({ status: z.literal("healthy") });

export const OpenApiDocument = z.record(z.string(), z.unknown()).describe("This OpenAPI 3.1 document.");

registerResponses({ Health, OpenApiDocument });
