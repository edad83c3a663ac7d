/** A small sample described by its median and how far it spreads: what every paired figure is reported with. */
export interface Spread {
  n: number;
  median: number;
  min: number;
  max: number;
  /** Nearest-rank quartiles. */
  p25: number;
  p75: number;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('spread of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1]!;
  const mid = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { n: sorted.length, median, min: sorted[0]!, max: sorted.at(-1)!, p25: rank(0.25), p75: rank(0.75) };
}

/** `1.03× (0.99–1.08, n=5)`: median with min–max. */
export function describeSpread(s: Spread, digits = 2, unit = '×'): string {
  return `${s.median.toFixed(digits)}${unit} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)}, n=${s.n})`;
}
