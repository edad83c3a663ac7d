/** Percentiles of a series of latencies, ms. */
export interface LatencyStats {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
}

/**
 * Nearest-rank percentiles (the p99 of 100 samples is the 99th smallest, a
 * value that was actually measured), rounded to tenths of a millisecond.
 */
export function latencyStats(samplesMs: readonly number[]): LatencyStats {
  if (samplesMs.length === 0) throw new Error('latency statistics of no samples');
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
  const tenths = (ms: number) => Math.round(ms * 10) / 10;
  return {
    count: sorted.length,
    p50Ms: tenths(rank(50)),
    p90Ms: tenths(rank(90)),
    p99Ms: tenths(rank(99)),
    minMs: tenths(sorted[0]!),
    maxMs: tenths(sorted.at(-1)!),
    meanMs: tenths(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}
