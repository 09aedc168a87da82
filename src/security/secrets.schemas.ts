/** Request schemas of the secrets routes (SPEC §6.3) and their types. */
import { z } from "zod";

export const SecretCreateRequest = z.object({
  name: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(/^[^\u0000-\u001f\u007f]+$/, "must not contain control characters"),
  /** The plaintext; never stored, logged or returned. */
  value: z.string().max(65_536),
});
export type SecretCreateRequest = z.infer<typeof SecretCreateRequest>;

export const SecretIdParam = z.object({ secret_id: z.uuid() });

export const ListSecretsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(1024).optional(),
});
export type ListSecretsQuery = z.infer<typeof ListSecretsQuery>;

export const RotateSecretsQuery = z.object({
  /** At most this many secrets are re-wrapped per call; `remaining` says whether to call again. */
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
