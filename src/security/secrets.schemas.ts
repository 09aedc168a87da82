/** Request and response schemas of the secrets routes (SPEC §6.3) and their types. */
import { z } from "zod";
import { int, nts, opaqueCursor, registerResponses, ts } from "../kernel/api-schemas";

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

// ---- responses -----------------------------------------------------------------------------------

export const SecretRef = z.object({
  secret_id: z.uuid(),
  name: z.string(),
  masked_value: z.string().describe("`gh***90` on create (values of ≥ 8 characters), `***` in lists."),
  cipher_digest: z.string(),
  key_version: int,
  created_at: ts,
});
export const SecretRefPage = z.object({ items: z.array(SecretRef), next_cursor: opaqueCursor });

export const SecretMetadata = z.object({
  secret_id: z.uuid(),
  name: z.string(),
  cipher_digest: z.string(),
  cipher_length: int,
  key_version: int,
  created_by: z.string(),
  created_at: ts,
  updated_at: ts,
  rotated_at: nts,
});

export const SecretRotation = z.object({ key_version: int, rotated: int, remaining: int });

registerResponses({ SecretRef, SecretRefPage, SecretMetadata, SecretRotation });
