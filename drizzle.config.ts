import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  // Build tables live in src/db/schema.ts; other domains keep theirs in src/<domain>/*.tables.ts.
  schema: ["./src/db/schema.ts", "./src/*/*.tables.ts"],
  out: "./migrations",
});
