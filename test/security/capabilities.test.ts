/**
 * deriveAccess (SPEC §3.2): role table, claim sources (top-level and app_metadata; user_metadata
 * only under the development opt-in),
 * role normalisation, case-sensitive explicit capabilities, unknown roles and sorting.
 */
import { describe, expect, it } from "vitest";
import { deriveAccess } from "../../src/security/capabilities";

const VIEWER = [
  "program.policy.read",
  "program.release.read",
  "program.runtime.read",
  "program.secrets.read",
  "program.validation.read",
];
const OPERATOR = [
  "program.policy.check",
  "program.policy.read",
  "program.policy.write",
  "program.release.read",
  "program.release.write",
  "program.runtime.read",
  "program.runtime.write",
  "program.validation.read",
  "program.validation.write",
];
const SECURITY = [
  "program.policy.check",
  "program.policy.read",
  "program.policy.write",
  "program.runtime.read",
  "program.secrets.read",
  "program.secrets.write",
  "program.validation.read",
  "program.webhook.ingest",
];

describe("deriveAccess role table", () => {
  it.each([
    ["viewer", VIEWER],
    ["operator", OPERATOR],
    ["security", SECURITY],
    ["admin", ["*"]],
  ])("role %s grants exactly the SPEC capabilities", (role, expected) => {
    expect(deriveAccess({ roles: [role] })).toEqual({ roles: [role], capabilities: expected });
  });

  it("operator has no secrets and no webhook.ingest", () => {
    const { capabilities } = deriveAccess({ role: "operator" });
    expect(capabilities.some((c) => c.startsWith("program.secrets."))).toBe(false);
    expect(capabilities).not.toContain("program.webhook.ingest");
  });

  it("security has no write on validation, runtime or release", () => {
    const { capabilities } = deriveAccess({ role: "security" });
    expect(capabilities).not.toContain("program.validation.write");
    expect(capabilities).not.toContain("program.runtime.write");
    expect(capabilities.some((c) => c.startsWith("program.release."))).toBe(false);
  });
});

describe("deriveAccess claim sources", () => {
  it.each([
    ["role (string)", { role: "viewer" }],
    ["roles (array)", { roles: ["viewer"] }],
    ["org_role", { org_role: "viewer" }],
    ["org_roles", { org_roles: ["viewer"] }],
    ["app_metadata.role", { app_metadata: { role: "viewer" } }],
    ["app_metadata.roles", { app_metadata: { roles: ["viewer"] } }],
  ])("reads roles from %s", (_name, claims) => {
    expect(deriveAccess(claims)).toEqual({ roles: ["viewer"], capabilities: VIEWER });
  });

  // Issue 17 item 1: end users can edit user_metadata (Supabase-style providers).
  it.each([
    ["user_metadata.role", { user_metadata: { role: "admin" } }],
    ["user_metadata.roles", { user_metadata: { roles: ["admin"] } }],
    ["user_metadata.capabilities", { user_metadata: { capabilities: ["*"] } }],
    ["user_metadata.permissions", { user_metadata: { permissions: "program.secrets.write" } }],
  ])("ignores %s by default (user-editable)", (_name, claims) => {
    expect(deriveAccess(claims)).toEqual({ roles: [], capabilities: [] });
  });

  it.each([
    ["user_metadata.role", { user_metadata: { role: "viewer" } }],
    ["user_metadata.roles", { user_metadata: { roles: "viewer" } }],
  ])("reads roles from %s only under the development opt-in", (_name, claims) => {
    expect(deriveAccess(claims, { trustUserMetadata: true })).toEqual({ roles: ["viewer"], capabilities: VIEWER });
  });

  it.each([
    ["capabilities", { capabilities: ["program.secrets.write"] }],
    ["permissions", { permissions: "program.secrets.write" }],
    ["org_permissions", { org_permissions: ["program.secrets.write"] }],
    ["app_metadata.capabilities", { app_metadata: { capabilities: ["program.secrets.write"] } }],
    ["app_metadata.permissions", { app_metadata: { permissions: ["program.secrets.write"] } }],
  ])("reads explicit capabilities from %s", (_name, claims) => {
    expect(deriveAccess(claims)).toEqual({ roles: [], capabilities: ["program.secrets.write"] });
  });

  it.each([
    ["user_metadata.capabilities", { user_metadata: { capabilities: ["program.secrets.write"] } }],
    ["user_metadata.permissions", { user_metadata: { permissions: "program.secrets.write" } }],
  ])("reads explicit capabilities from %s only under the development opt-in", (_name, claims) => {
    expect(deriveAccess(claims, { trustUserMetadata: true })).toEqual({
      roles: [],
      capabilities: ["program.secrets.write"],
    });
  });

  it("unions roles from every source and explicit with role capabilities", () => {
    const access = deriveAccess(
      {
        role: "viewer",
        app_metadata: { roles: ["security"] },
        user_metadata: { capabilities: ["custom.cap"] },
        permissions: ["program.release.write"],
      },
      { trustUserMetadata: true },
    );
    expect(access.roles).toEqual(["security", "viewer"]);
    expect(access.capabilities).toEqual(
      [...new Set([...VIEWER, ...SECURITY, "custom.cap", "program.release.write"])].sort(),
    );
  });

  it("admin staging template (roles + capabilities mirrored in app_metadata)", () => {
    const access = deriveAccess({
      roles: ["admin"],
      capabilities: ["*"],
      app_metadata: { roles: ["admin"], capabilities: ["*"] },
    });
    expect(access).toEqual({ roles: ["admin"], capabilities: ["*"] });
  });

  it("ignores non-string values and non-object metadata", () => {
    const access = deriveAccess({
      roles: ["viewer", 7, null, { role: "admin" }],
      role: 42,
      capabilities: [true, "x.y"],
      app_metadata: "admin",
      user_metadata: ["admin"],
    });
    expect(access).toEqual({ roles: ["viewer"], capabilities: [...VIEWER, "x.y"].sort() });
  });

  it("no claims → nothing", () => {
    expect(deriveAccess({})).toEqual({ roles: [], capabilities: [] });
  });
});

describe("deriveAccess normalisation", () => {
  it("trims and lower-cases roles; drops empty ones", () => {
    const access = deriveAccess({ roles: ["  Operator ", "ADMIN", "  ", ""], role: "Viewer" });
    expect(access.roles).toEqual(["admin", "operator", "viewer"]);
    expect(access.capabilities).toContain("*");
    expect(access.capabilities).toContain("program.runtime.write");
  });

  it("trims explicit capabilities but keeps them case-sensitive", () => {
    const access = deriveAccess({ capabilities: ["  program.secrets.read  ", "Program.Secrets.Write"] });
    expect(access.capabilities).toEqual(["Program.Secrets.Write", "program.secrets.read"]);
  });

  it("case-different explicit capability does not merge with the role one", () => {
    const access = deriveAccess({ roles: ["viewer"], capabilities: ["PROGRAM.RUNTIME.READ"] });
    expect(access.capabilities).toEqual(["PROGRAM.RUNTIME.READ", ...VIEWER]);
  });

  it("unknown roles are kept but grant nothing", () => {
    expect(deriveAccess({ roles: ["authenticated", "Superuser", "constructor", "__proto__"] })).toEqual({
      roles: ["__proto__", "authenticated", "constructor", "superuser"],
      capabilities: [],
    });
  });

  it("de-duplicates and sorts both sets", () => {
    const access = deriveAccess({
      roles: ["viewer", "VIEWER", "operator"],
      org_roles: ["viewer"],
      capabilities: ["z.cap", "a.cap", "z.cap", "program.runtime.read"],
    });
    expect(access.roles).toEqual(["operator", "viewer"]);
    expect(access.capabilities).toEqual([...new Set(["a.cap", ...OPERATOR, ...VIEWER, "z.cap"])].sort());
    expect(new Set(access.capabilities).size).toBe(access.capabilities.length);
  });
});
