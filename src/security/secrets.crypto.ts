/**
 * Envelope encryption for stored secrets (DESIGN §7): each value is encrypted with its own random
 * 256-bit data key (AES-256-GCM, 96-bit random IV); the data key is wrapped with the newest
 * key-encryption key of the versioned keyring (AES-256-GCM). Both layers authenticate
 * additional data binding them to the tenant and secret id (and the wrap to its KEK version), so
 * a ciphertext moved to another row or relabelled with another version does not decrypt.
 * Rotation re-wraps the data key under the newest KEK; the value ciphertext stays the same.
 */
import { concatBytes, fromBase64Url, sha256Hex, toBase64Url, utf8 } from "../lib/crypto";
import type { Keyring } from "../kernel/security.config";

const IV_BYTES = 12;

export interface SealedSecret {
  /** base64url(iv ‖ ciphertext ‖ tag) of the value under its data key. */
  ciphertext: string;
  /** base64url(iv ‖ wrapped data key ‖ tag) under KEK `key_version`. */
  wrapped_key: string;
  key_version: number;
}

export interface SecretBinding {
  tenantId: string;
  secretId: string;
}

/** Thrown when a record's KEK version is not in the keyring (mapped to 503 by the service). */
export class MissingKeyVersionError extends Error {
  constructor(readonly version: number) {
    super(`key version ${version} is not in the keyring`);
  }
}

function valueAad(b: SecretBinding): Uint8Array {
  return utf8(`clarity/secret-value/v1|${b.tenantId.length}:${b.tenantId}|${b.secretId}`);
}

function wrapAad(b: SecretBinding, version: number): Uint8Array {
  return utf8(`clarity/secret-key/v1|${b.tenantId.length}:${b.tenantId}|${b.secretId}|kek:${version}`);
}

function aesKey(raw: Uint8Array, usage: "encrypt" | "decrypt"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, [usage]);
}

async function gcmEncrypt(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: aad },
    await aesKey(key, "encrypt"),
    plaintext,
  );
  return toBase64Url(concatBytes(iv, new Uint8Array(ct)));
}

async function gcmDecrypt(key: Uint8Array, token: string, aad: Uint8Array): Promise<Uint8Array> {
  const bytes = fromBase64Url(token);
  if (bytes === null || bytes.length < IV_BYTES + 16) throw new Error("malformed ciphertext");
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.slice(0, IV_BYTES), additionalData: aad },
    await aesKey(key, "decrypt"),
    bytes.slice(IV_BYTES),
  );
  return new Uint8Array(pt);
}

function kek(keyring: Keyring, version: number): Uint8Array {
  const key = keyring.keys.get(version);
  if (key === undefined) throw new MissingKeyVersionError(version);
  return key;
}

async function unwrapDataKey(keyring: Keyring, sealed: SealedSecret, b: SecretBinding): Promise<Uint8Array> {
  return gcmDecrypt(kek(keyring, sealed.key_version), sealed.wrapped_key, wrapAad(b, sealed.key_version));
}

/** Encrypts `plaintext` under a fresh data key wrapped by the newest KEK. */
export async function sealSecret(keyring: Keyring, plaintext: string, b: SecretBinding): Promise<SealedSecret> {
  const dataKey = crypto.getRandomValues(new Uint8Array(32));
  try {
    const ciphertext = await gcmEncrypt(dataKey, utf8(plaintext), valueAad(b));
    const wrapped_key = await gcmEncrypt(kek(keyring, keyring.newest), dataKey, wrapAad(b, keyring.newest));
    return { ciphertext, wrapped_key, key_version: keyring.newest };
  } finally {
    dataKey.fill(0);
  }
}

/** Decrypts a sealed secret (throws on a missing KEK version or failed authentication). */
export async function openSecret(keyring: Keyring, sealed: SealedSecret, b: SecretBinding): Promise<string> {
  const dataKey = await unwrapDataKey(keyring, sealed, b);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      await gcmDecrypt(dataKey, sealed.ciphertext, valueAad(b)),
    );
  } finally {
    dataKey.fill(0);
  }
}

/** Re-wraps the data key under the newest KEK; the value ciphertext is unchanged. */
export async function rewrapSecret(keyring: Keyring, sealed: SealedSecret, b: SecretBinding): Promise<SealedSecret> {
  if (sealed.key_version === keyring.newest) return sealed;
  const dataKey = await unwrapDataKey(keyring, sealed, b);
  try {
    const wrapped_key = await gcmEncrypt(kek(keyring, keyring.newest), dataKey, wrapAad(b, keyring.newest));
    return { ciphertext: sealed.ciphertext, wrapped_key, key_version: keyring.newest };
  } finally {
    dataKey.fill(0);
  }
}

/** SPEC §6.3 `cipher_digest`: first 16 hex chars of SHA-256 of the ciphertext token. */
export async function cipherDigest(ciphertext: string): Promise<string> {
  return (await sha256Hex(ciphertext)).slice(0, 16);
}

/**
 * The create-time mask (SPEC §6.3: first 2 + "***" + last 2). Values shorter than 8 characters
 * are fully masked (`***`): showing 4 characters of a 5-character value would reveal most of it.
 */
export function maskValue(value: string): string {
  const chars = [...value];
  if (chars.length < 8) return "***";
  return `${chars.slice(0, 2).join("")}***${chars.slice(-2).join("")}`;
}
