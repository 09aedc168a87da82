/** Response schemas of the development token routes (src/dev/dev.routes.ts). */
import { z } from "zod";
import { int, registerResponses, ts } from "../kernel/api-schemas";

export const DevTokenInfo = z.object({
  available: z.literal(true),
  roles: z.array(z.string()),
  issuer: z.string(),
  expires_in: int,
});
export const DevToken = z.object({
  token: z.string(),
  token_type: z.literal("Bearer"),
  role: z.string(),
  sub: z.string(),
  expires_at: ts,
});

registerResponses({ DevTokenInfo, DevToken });
