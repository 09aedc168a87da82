#!/usr/bin/env node
// wrangler's build step (wrangler.toml `[build]`): public/ as src/http/dashboard.files.ts.
import { writeDashboardModule } from "./lib/dashboard-module.mjs";

writeDashboardModule();
