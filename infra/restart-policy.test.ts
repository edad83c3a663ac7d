import { describe, expect, it } from 'vitest';
import { HEALTHY_RUN_MS, nextRestart } from './restart-policy.ts';

describe('nextRestart', () => {
  it('backs off 1, 2, 4 … 30 s while a role keeps crashing at once', () => {
    let crashes = 0;
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const next = nextRestart(crashes, 200);
      delays.push(next.delayMs);
      crashes = next.crashesInARow;
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  it('starts again from 1 s once the role had run healthily for a while', () => {
    let crashes = 0;
    for (let i = 0; i < 5; i++) crashes = nextRestart(crashes, 200).crashesInARow;
    expect(nextRestart(crashes, 200).delayMs).toBe(30_000);
    expect(nextRestart(crashes, HEALTHY_RUN_MS).delayMs).toBe(1000);
  });
});
