/**
 * The committed docs/openapi.json is exactly what GET /openapi.json serves. CI validates the
 * committed file with a third-party validator and generates the typed client from it
 * (scripts/check-openapi.mjs), so the two must never drift: after changing a route or schema,
 * run `npm run openapi:update`.
 */
import { describe, expect, it } from "vitest";
import { raw } from "../helpers/api";

describe("docs/openapi.json", () => {
  it("matches the served document (npm run openapi:update refreshes it)", async () => {
    const res = await raw("/openapi.json");
    expect(res.status).toBe(200);
    const doc = await res.json();
    await expect(`${JSON.stringify(doc, null, 2)}\n`).toMatchFileSnapshot("../../docs/openapi.json");
  });
});
