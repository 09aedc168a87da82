/** D1's statement limits the repositories build multi-row statements against (imports no domain). */

/** D1 binds at most 100 parameters per statement (local D1 enforces it too). */
export const D1_MAX_BOUND_PARAMS = 100;

/** Rows of `columns` bound parameters each that one statement can carry (at least one). */
export function rowsPerStatement(columns: number): number {
  return Math.max(1, Math.floor(D1_MAX_BOUND_PARAMS / columns));
}
