/**
 * Secrets use cases (SPEC §6.3, DESIGN §7): create (envelope-encrypted, 409 on a duplicate name),
 * list (masked `***`), metadata (cipher_digest, cipher_length, key version), delete, rotate one or
 * all (re-wrap under the newest keyring version), and `resolveSecretValue`, the internal decrypt
 * for runner dispatch only — no route returns a plaintext. Secrets are tenant-scoped: every member
 * of a tenant with the capability sees the tenant's secrets; other tenants get 404.
 * Plaintext is never stored or logged; errors never carry it.
 */
import { type AuditEntry, actorOf, auditStatement } from "../audit/audit";
import type { Config, Db } from "../kernel/env";
import { AppError } from "../kernel/errors";
import { withoutParams } from "../lib/db-errors";
import { isoTimestamp, newId } from "../lib/ids";
import { decodeCursor, page } from "../kernel/cursor";
import type { Principal } from "../kernel/principal";
import {
  MissingKeyVersionError,
  type SecretBinding,
  cipherDigest,
  maskValue,
  openSecret,
  rewrapSecret,
  sealSecret,
} from "./secrets.crypto";
import * as repo from "./secrets.repo";
import type { ListSecretsQuery, SecretCreateRequest } from "./secrets.schemas";
import type { Keyring } from "../kernel/security.config";

export interface SecretsDeps {
  db: Db;
  config: Config;
  principal: Principal;
  /** The request's id, for the audit log. */
  requestId?: string;
}

function secretAudit(
  deps: Pick<SecretsDeps, "principal" | "requestId">,
  action: "secret.create" | "secret.rotate" | "secret.delete",
  secretId: string,
  detail: Record<string, unknown> = {},
): AuditEntry {
  return { actor: actorOf(deps), action, target_type: "secret", target_id: secretId, detail };
}

function keyringOf(config: Config): Keyring {
  if (config.SECRETS_KEYRING === undefined) {
    throw new AppError("secrets_unavailable", "Secrets are not configured on this deployment (SECRETS_KEYRING).");
  }
  return config.SECRETS_KEYRING;
}

function binding(row: { tenantId: string; secretId: string }): SecretBinding {
  return { tenantId: row.tenantId, secretId: row.secretId };
}

function sealedOf(row: repo.SecretRow) {
  return { ciphertext: row.ciphertext, wrapped_key: row.wrappedKey, key_version: row.keyVersion };
}

/** Maps crypto failures: a missing key version is an operator problem (503), anything else a bug. */
function cryptoFailure(err: unknown, secretId: string): AppError {
  if (err instanceof MissingKeyVersionError) {
    return new AppError(
      "secrets_unavailable",
      `Secret ${secretId} is wrapped under key version ${err.version}, which is not in SECRETS_KEYRING.`,
    );
  }
  return new AppError("internal", undefined, { cause: new Error(`secret ${secretId} failed to decrypt`) });
}

function refDto(row: repo.SecretRow, maskedValue: string) {
  return {
    secret_id: row.secretId,
    name: row.name,
    masked_value: maskedValue,
    cipher_digest: row.cipherDigest,
    key_version: row.keyVersion,
    created_at: row.createdAt,
  };
}

function metadataDto(row: repo.SecretRow) {
  return {
    secret_id: row.secretId,
    name: row.name,
    cipher_digest: row.cipherDigest,
    cipher_length: row.cipherLength,
    key_version: row.keyVersion,
    created_by: row.createdBy,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
    rotated_at: row.rotatedAt,
  };
}

async function authorizedRow(deps: Pick<SecretsDeps, "db" | "principal">, secretId: string): Promise<repo.SecretRow> {
  const row = await repo.getSecret(deps.db, deps.principal.tenantId, secretId);
  if (!row) throw new AppError("secret_not_found", "Secret not found.");
  return row;
}

/** Encrypts and stores a new secret; the response shows the value only masked. */
export async function createSecret(deps: SecretsDeps, body: SecretCreateRequest) {
  const keyring = keyringOf(deps.config);
  const secretId = newId();
  const tenantId = deps.principal.tenantId;
  const sealed = await sealSecret(keyring, body.value, { tenantId, secretId });
  const now = isoTimestamp(Date.now());
  const row: repo.SecretRow = {
    secretId,
    tenantId,
    name: body.name,
    ciphertext: sealed.ciphertext,
    wrappedKey: sealed.wrapped_key,
    keyVersion: sealed.key_version,
    cipherDigest: await cipherDigest(sealed.ciphertext),
    cipherLength: sealed.ciphertext.length,
    createdBy: deps.principal.sub,
    createdAt: now,
    updatedAt: now,
    rotatedAt: null,
  };
  let inserted: boolean;
  try {
    inserted = await repo.insertSecret(
      deps.db,
      row,
      secretAudit(deps, "secret.create", secretId, { name: body.name, key_version: sealed.key_version }),
    );
  } catch (err) {
    throw new AppError("internal", undefined, { cause: withoutParams(err, "storing a secret failed") });
  }
  if (!inserted) {
    throw new AppError("secret_name_conflict", `A secret named "${body.name}" already exists.`);
  }
  return refDto(row, maskValue(body.value));
}

/** The tenant's secrets, newest first, values masked `***`. */
export async function listSecrets(deps: Pick<SecretsDeps, "db" | "principal">, q: ListSecretsQuery) {
  let after: { createdAt: string; secretId: string } | undefined;
  if (q.cursor !== undefined) {
    const [createdAt, secretId] = decodeCursor(q.cursor, 2) as [string, string];
    after = { createdAt, secretId };
  }
  const rows = await repo.listSecrets(deps.db, deps.principal.tenantId, q.limit + 1, after);
  return page(
    rows,
    q.limit,
    (r) => refDto(r, "***"),
    (r) => [r.createdAt, r.secretId],
  );
}

export async function getSecretMetadata(deps: Pick<SecretsDeps, "db" | "principal">, secretId: string) {
  return metadataDto(await authorizedRow(deps, secretId));
}

export async function deleteSecret(
  deps: Pick<SecretsDeps, "db" | "principal" | "requestId">,
  secretId: string,
): Promise<void> {
  if (
    !(await repo.deleteSecret(deps.db, deps.principal.tenantId, secretId, secretAudit(deps, "secret.delete", secretId)))
  )
    throw new AppError("secret_not_found", "Secret not found.");
}

async function rewrapRows(deps: SecretsDeps, keyring: Keyring, rows: repo.SecretRow[]): Promise<number> {
  const now = isoTimestamp(Date.now());
  const statements = [];
  for (const row of rows) {
    let sealed;
    try {
      sealed = await rewrapSecret(keyring, sealedOf(row), binding(row));
    } catch (err) {
      throw cryptoFailure(err, row.secretId);
    }
    statements.push(repo.rewrapStatement(deps.db, row, sealed.wrapped_key, sealed.key_version, now));
    // Right after its re-wrap: recorded only when the compare-and-set matched.
    statements.push(
      auditStatement(
        deps.db,
        secretAudit(deps, "secret.rotate", row.secretId, {
          from_key_version: row.keyVersion,
          key_version: sealed.key_version,
        }),
        { ifChanged: true },
      ),
    );
  }
  const [first, ...rest] = statements;
  if (first === undefined) return 0;
  let results;
  try {
    results = await deps.db.batch([first, ...rest]);
  } catch (err) {
    throw new AppError("internal", undefined, { cause: withoutParams(err, "re-wrapping secrets failed") });
  }
  // Every other result is an audit INSERT; count the re-wraps only.
  return results.reduce((n, r, i) => (i % 2 === 0 ? n + r.meta.changes : n), 0);
}

/** Re-wraps one secret's data key under the newest key version (no-op when already newest). */
export async function rotateSecret(deps: SecretsDeps, secretId: string) {
  const keyring = keyringOf(deps.config);
  const row = await authorizedRow(deps, secretId);
  if (row.keyVersion !== keyring.newest) await rewrapRows(deps, keyring, [row]);
  return metadataDto(await authorizedRow(deps, secretId));
}

/** Re-wraps up to `limit` of the tenant's secrets that are not on the newest key version. */
export async function rotateAllSecrets(deps: SecretsDeps, limit: number) {
  const keyring = keyringOf(deps.config);
  const tenantId = deps.principal.tenantId;
  const rotated = await rewrapRows(deps, keyring, await repo.listStale(deps.db, tenantId, keyring.newest, limit));
  return { key_version: keyring.newest, rotated, remaining: await repo.countStale(deps.db, tenantId, keyring.newest) };
}

/**
 * The plaintext of a tenant's secret, for runner dispatch only (never returned by a route,
 * never logged). `ref` is a secret id or a name. Throws `secret_not_found` or
 * `secrets_unavailable`.
 */
export async function resolveSecretValue(
  deps: { db: Db; config: Config },
  tenantId: string,
  ref: { secretId: string } | { name: string },
): Promise<string> {
  const keyring = keyringOf(deps.config);
  const row =
    "secretId" in ref
      ? await repo.getSecret(deps.db, tenantId, ref.secretId)
      : await repo.getSecretByName(deps.db, tenantId, ref.name);
  if (!row) throw new AppError("secret_not_found", "Secret not found.");
  try {
    return await openSecret(keyring, sealedOf(row), binding(row));
  } catch (err) {
    throw cryptoFailure(err, row.secretId);
  }
}

/**
 * The plaintexts of a family of tenant secrets (`name` and `name_*`, getSecretsByNameFamily), for
 * signature checks only (never returned by a route, never logged). Empty when there is none.
 */
export async function resolveSecretFamily(
  deps: { db: Db; config: Config },
  tenantId: string,
  name: string,
  limit = 8,
): Promise<string[]> {
  const rows = await repo.getSecretsByNameFamily(deps.db, tenantId, name, limit);
  if (rows.length === 0) return [];
  const keyring = keyringOf(deps.config);
  const values: string[] = [];
  for (const row of rows) {
    try {
      values.push(await openSecret(keyring, sealedOf(row), binding(row)));
    } catch (err) {
      throw cryptoFailure(err, row.secretId);
    }
  }
  return values;
}
