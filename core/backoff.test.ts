import { describe, expect, it } from 'vitest';
import { backoffCapSeconds, backoffSeconds } from './backoff.ts';

describe('backoffSeconds (full jitter)', () => {
  it('stays inside [1, min(max, base × 2^(attempt−1))]', () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const cap = backoffCapSeconds(attempt, 5000, 900);
      expect(cap).toBe(Math.min(900, 5 * 2 ** (attempt - 1)));
      for (let i = 0; i < 200; i++) {
        const delay = backoffSeconds(attempt, 5000, 900);
        expect(delay).toBeGreaterThanOrEqual(1);
        expect(delay).toBeLessThanOrEqual(cap);
      }
    }
  });

  it('retries that failed together do not come back together', () => {
    // 100 jobs failing their 4th attempt at the same moment (base 5 s: a window of 40 s).
    const delays = Array.from({ length: 100 }, () => backoffSeconds(4, 5000, 900));
    expect(new Set(delays).size).toBeGreaterThan(20);
    // No second of the window holds more than a fifth of them.
    const most = Math.max(...[...new Set(delays)].map((d) => delays.filter((x) => x === d).length));
    expect(most).toBeLessThan(20);
  });

  it('spans the whole window: the random number maps onto 1 … cap', () => {
    expect(backoffSeconds(3, 5000, 900, () => 0)).toBe(1);
    expect(backoffSeconds(3, 5000, 900, () => 0.5)).toBe(10);
    expect(backoffSeconds(3, 5000, 900, () => 0.999_999)).toBe(20);
  });
});
