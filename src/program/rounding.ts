/**
 * Rounding and fixed-point formatting as the reference's Python does it (`round(x, n)`, `%.nf`),
 * used by the campaign report and the SLO summary. Pure.
 */

/**
 * Python `%.nf` / `round(x, n)`: the exact binary value rounded, ties to even. `toFixed` also
 * rounds the exact value but breaks exact ties away from zero. An exact tie (x = k/16 at three
 * decimals, k/8 at two) has a short exact expansion, which `toFixed(70)` shows in full.
 */
export function formatFixed(x: number, digits: number): string {
  const plain = x.toFixed(digits);
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return plain;
  const [intPart = "0", frac = ""] = Math.abs(x).toFixed(70).split(".");
  if (!/^50*$/.test(frac.slice(digits))) return plain;
  const kept = frac.slice(0, digits);
  const lastDigit = Number((digits === 0 ? intPart : kept).slice(-1));
  if (lastDigit % 2 === 1) return plain; // away from zero is the even neighbour here
  return (x < 0 ? "-" : "") + (digits === 0 ? intPart : `${intPart}.${kept}`);
}

export function roundTo(x: number, digits: number): number {
  return Number(formatFixed(x, digits));
}
