// @ts-check
/**
 * The dashboard session: the bearer token lives in sessionStorage only (per tab, gone when the
 * tab closes) and is never written anywhere else. `claims()` decodes the JWT payload for display
 * (sub, roles) — the API verifies it; the dashboard never trusts it for decisions.
 */

const KEY = "clarity.token";

/** @returns {string | null} */
export function getToken() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** @param {string} token */
export function setToken(token) {
  sessionStorage.setItem(KEY, token.trim());
}

export function clearToken() {
  sessionStorage.removeItem(KEY);
}

/**
 * @typedef {{ sub?: string, org_id?: string, roles?: string[], role?: string, iss?: string, exp?: number, capabilities?: string[] }} Claims
 */

/**
 * The token's payload, unverified (display only); null when it is not a JWT.
 * @param {string | null} [token]
 * @returns {Claims | null}
 */
export function claims(token = getToken()) {
  if (!token) return null;
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(
      part
        .replace(/-/g, "+")
        .replace(/_/g, "/")
        .padEnd(Math.ceil(part.length / 4) * 4, "="),
    );
    const value = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
    return value && typeof value === "object" ? value : null;
  } catch {
    return null;
  }
}

/** Roles of the current token (display only). @returns {string[]} */
export function roles() {
  const c = claims();
  if (!c) return [];
  const r = c.roles ?? c.role;
  return Array.isArray(r) ? r.map(String) : typeof r === "string" ? [r] : [];
}
