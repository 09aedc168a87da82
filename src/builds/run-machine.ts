/**
 * The pure core of a build run (SPEC §4.6–4.9, DESIGN §4), one module per concern under
 * `engine/`: run state (run-state), run settings (run-settings), retry policy (retry-policy), the
 * Draft (draft), creation (create), the tick (tick), run results (results) and failure handling
 * with the deterministic fallback (failure). Nothing there does I/O. This file re-exports them
 * for the modules that import the core as one.
 */
export * from "./engine/run-state";
export * from "./engine/run-settings";
export * from "./engine/retry-policy";
export * from "./engine/draft";
export * from "./engine/create";
export * from "./engine/tick";
export { httpFailure } from "./engine/results";
export { applyFallback, decideReplan } from "./engine/failure";
