/**
 * zod parsers for the security plane's structured configuration values, used by ConfigSchema
 * (src/kernel/env.ts): the secrets keyring, Standard Webhooks secrets, CORS origins and rate-limit
 * rules. Issues name the variable, never echo key material.
 */
import { z } from "zod";
import { fromBase64, fromBase64Url } from "../lib/crypto";

/** Key-encryption keys by version; `newest` (the highest version) wraps new data keys. */
export interface Keyring {
  newest: number;
  keys: ReadonlyMap<number, Uint8Array>;
}

function jsonObject(what: string) {
  return z.string().transform((raw, ctx) => {
    try {
      const value: unknown = JSON.parse(raw);
      if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: "custom", message: `${what} must be a JSON object` });
    return z.NEVER;
  });
}

/** `SECRETS_KEYRING`: JSON `{"<version>": "<base64 of 32 bytes>", …}`, versions positive integers. */
export const KeyringSchema = jsonObject("SECRETS_KEYRING").transform((obj, ctx): Keyring => {
  const keys = new Map<number, Uint8Array>();
  for (const [version, value] of Object.entries(obj)) {
    if (!/^[1-9][0-9]{0,5}$/.test(version)) {
      ctx.addIssue({ code: "custom", message: "keyring versions must be positive integers" });
      return z.NEVER;
    }
    const bytes = typeof value === "string" ? (fromBase64(value) ?? fromBase64Url(value)) : null;
    if (bytes === null || bytes.length !== 32) {
      ctx.addIssue({ code: "custom", message: `keyring version ${version} must be base64 of exactly 32 bytes` });
      return z.NEVER;
    }
    keys.set(Number(version), bytes);
  }
  if (keys.size === 0) {
    ctx.addIssue({ code: "custom", message: "keyring must hold at least one key" });
    return z.NEVER;
  }
  return { newest: Math.max(...keys.keys()), keys };
});

/** `STANDARD_WEBHOOK_SECRETS`: one or more `whsec_<base64>` separated by spaces or commas (rotation). */
export const StandardWebhookSecretsSchema = z.string().transform((raw, ctx): Uint8Array[] => {
  const out: Uint8Array[] = [];
  for (const item of raw.split(/[\s,]+/).filter((s) => s !== "")) {
    const bytes = item.startsWith("whsec_") ? fromBase64(item.slice("whsec_".length)) : null;
    if (bytes === null || bytes.length < 16 || bytes.length > 128) {
      ctx.addIssue({ code: "custom", message: "each secret must be whsec_ followed by base64 of 16–128 bytes" });
      return z.NEVER;
    }
    out.push(bytes);
  }
  if (out.length === 0) {
    ctx.addIssue({ code: "custom", message: "at least one whsec_ secret is required" });
    return z.NEVER;
  }
  return out;
});

/** An allowed CORS origin: exact (`https://app.example.com`) or any port (`http://localhost:*`). */
export interface OriginRule {
  scheme: string;
  host: string;
  /** null = default port only; "*" = any port. */
  port: string | null;
}

const ORIGIN_RE = /^(https?):\/\/([a-z0-9.-]+|\[[0-9a-f:]+\])(?::(\d{1,5}|\*))?$/i;

/** `CORS_ALLOWED_ORIGINS`: comma/space separated origins; empty = no cross-origin access. */
export const CorsOriginsSchema = z.string().transform((raw, ctx): OriginRule[] => {
  const out: OriginRule[] = [];
  for (const item of raw.split(/[\s,]+/).filter((s) => s !== "")) {
    const m = ORIGIN_RE.exec(item.replace(/\/$/, ""));
    if (!m?.[1] || !m[2]) {
      ctx.addIssue({ code: "custom", message: `not an origin: ${item.slice(0, 100)}` });
      return z.NEVER;
    }
    out.push({ scheme: m[1].toLowerCase(), host: m[2].toLowerCase(), port: m[3] ?? null });
  }
  return out;
});

/** `RATE_LIMIT_RULES`: JSON `{"POST /v1/builds": 60, …}` — per-minute limit per principal; 0 = unlimited. */
export const RateLimitRulesSchema = jsonObject("RATE_LIMIT_RULES").pipe(
  z.record(
    z.string().regex(/^(GET|POST|PUT|PATCH|DELETE) \/\S*$/, "rule keys are 'METHOD /path' (UUID segments written :id)"),
    z.number().int().min(0).max(1_000_000),
  ),
);

/**
 * `WEBHOOK_TENANT_SECRETS` (secret): JSON `{"<tenant id>": "whsec_… [whsec_…]", …}` — per-tenant
 * Standard Webhooks secrets; a delivery verified by a tenant's secret belongs to that tenant.
 */
export const WebhookTenantSecretsSchema = jsonObject("WEBHOOK_TENANT_SECRETS").transform(
  (obj, ctx): Array<{ tenantId: string; secrets: Uint8Array[] }> => {
    const out: Array<{ tenantId: string; secrets: Uint8Array[] }> = [];
    for (const [tenantId, value] of Object.entries(obj)) {
      const parsed =
        typeof value === "string" && tenantId.length > 0 && tenantId.length <= 256
          ? StandardWebhookSecretsSchema.safeParse(value)
          : null;
      if (!parsed?.success) {
        ctx.addIssue({
          code: "custom",
          message: "WEBHOOK_TENANT_SECRETS maps tenant ids (1–256 chars) to whsec_ secrets",
        });
        return z.NEVER;
      }
      out.push({ tenantId, secrets: parsed.data });
    }
    return out;
  },
);
