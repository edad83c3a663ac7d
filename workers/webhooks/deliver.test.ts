import { describe, expect, it } from 'vitest';
import { MAX_RETRY_DELAY_SECONDS, retryDelaySeconds } from './deliver.ts';

describe('webhook retry back-off', () => {
  it('doubles from the base, in whole seconds, never 0 and never beyond the cap', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelaySeconds(attempt, 30_000))).toEqual([30, 60, 120, 240, 480]);
    expect(retryDelaySeconds(1, 1)).toBe(1);
    expect(retryDelaySeconds(1, 1500)).toBe(2);
    expect(retryDelaySeconds(25, 3_600_000)).toBe(MAX_RETRY_DELAY_SECONDS);
  });
});
