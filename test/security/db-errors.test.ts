import { describe, expect, it } from "vitest";
import { withoutParams } from "../../src/lib/db-errors";

describe("withoutParams", () => {
  it("keeps the D1 error and drops bound values from drizzle's query error", () => {
    const d1 = new Error("D1_ERROR: UNIQUE constraint failed: webhook_deliveries.scheme");
    const drizzleErr = new Error(
      'Failed query: insert into "webhook_deliveries" values (?, ?)\nparams: sk_live_secret_body,xyz',
      { cause: d1 },
    );
    const safe = withoutParams(drizzleErr, "storing failed");
    expect(safe.message).toBe("storing failed: D1_ERROR: UNIQUE constraint failed: webhook_deliveries.scheme");
    const noCause = withoutParams(new Error("Failed query: insert …\nparams: sk_live_secret_body"), "x");
    expect(noCause.message).not.toContain("sk_live");
  });
});
