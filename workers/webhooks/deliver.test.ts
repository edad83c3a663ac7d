import { describe, expect, it } from 'vitest';
import { MAX_RETRY_DELAY_SECONDS, retryDelaySeconds } from './deliver.ts';

describe('webhook retry back-off', () => {
  it('a window that doubles from the base, in whole seconds, never 0 and never beyond the cap', () => {
    const top = () => 0.999_999;
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelaySeconds(attempt, 30_000, top))).toEqual([30, 60, 120, 240, 480]);
    expect([1, 2, 3].map((attempt) => retryDelaySeconds(attempt, 30_000, () => 0))).toEqual([1, 1, 1]);
    expect(retryDelaySeconds(1, 1, top)).toBe(1);
    expect(retryDelaySeconds(1, 1500, top)).toBe(2);
    expect(retryDelaySeconds(25, 3_600_000, top)).toBe(MAX_RETRY_DELAY_SECONDS);
  });
});
