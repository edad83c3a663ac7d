import { describe, expect, it } from 'vitest';
import { decideScale, type ScaleInput } from './decide-scale.ts';

const settings = { minWorkers: 1, maxWorkers: 4, jobsPerWorker: 2, scaleDownCooldownMs: 60_000 };
const at = (input: Partial<ScaleInput>) =>
  decideScale({ depth: 0, current: 1, busy: 0, lowerSince: undefined, now: 1_000_000, settings, ...input });

describe('decideScale', () => {
  it('scales up at once, to ceil(depth / jobsPerWorker)', () => {
    expect(at({ depth: 5, current: 1, busy: 1 })).toMatchObject({ action: 'up', count: 2, desired: 3, code: 'backlog' });
    expect(at({ depth: 4, current: 2 })).toMatchObject({ action: 'hold', desired: 2, code: 'steady' });
  });

  it('is capped at the maximum', () => {
    const decision = at({ depth: 1000, current: 1 });
    expect(decision).toMatchObject({ action: 'up', count: 3, desired: 4 });
    expect(decision.reason).toContain('capped at the maximum 4');
    expect(at({ depth: 1000, current: 4, busy: 4 })).toMatchObject({ action: 'hold', desired: 4 });
  });

  it('starts the minimum with an empty queue, and never goes below it', () => {
    expect(at({ depth: 0, current: 0 })).toMatchObject({ action: 'up', count: 1, desired: 1, code: 'below-min' });
    const longAfter = at({ depth: 0, current: 1, lowerSince: 0 });
    expect(longAfter).toMatchObject({ action: 'hold', desired: 1 });
    const min2 = decideScale({ depth: 0, current: 3, busy: 0, lowerSince: 0, now: 1_000_000, settings: { ...settings, minWorkers: 2 } });
    expect(min2).toMatchObject({ action: 'down', count: 1, desired: 2 });
  });

  it('scales down only after the desired count has been lower for the whole cooldown', () => {
    const first = at({ depth: 0, current: 3, now: 0 });
    expect(first).toMatchObject({ action: 'hold', code: 'cooldown', lowerSince: 0 });
    expect(at({ depth: 0, current: 3, lowerSince: first.lowerSince, now: 59_999 })).toMatchObject({ action: 'hold', code: 'cooldown' });
    expect(at({ depth: 0, current: 3, lowerSince: first.lowerSince, now: 60_000 })).toMatchObject({
      action: 'down',
      count: 2,
      desired: 1,
      lowerSince: undefined,
    });
  });

  it('restarts the cooldown when demand comes back in between', () => {
    const lower = at({ depth: 0, current: 2, now: 0 });
    const back = at({ depth: 4, current: 2, lowerSince: lower.lowerSince, now: 30_000 });
    expect(back).toMatchObject({ action: 'hold', code: 'steady', lowerSince: undefined });
    expect(at({ depth: 0, current: 2, lowerSince: back.lowerSince, now: 61_000 })).toMatchObject({ action: 'hold', code: 'cooldown' });
  });

  it('never stops a busy worker (or one that has not reported yet)', () => {
    expect(at({ depth: 0, current: 3, busy: 3, lowerSince: 0 })).toMatchObject({ action: 'hold', code: 'all-busy', lowerSince: 0 });
    const partly = at({ depth: 0, current: 3, busy: 2, lowerSince: 0 });
    expect(partly).toMatchObject({ action: 'down', count: 1, desired: 1 });
    // One busy worker is still one too many: it goes as soon as it is idle, without a new cooldown.
    expect(partly.lowerSince).toBe(0);
    expect(at({ depth: 0, current: 2, busy: 0, lowerSince: partly.lowerSince })).toMatchObject({ action: 'down', count: 1 });
  });

  it('keeps what runs (but at least the minimum) when the depth is unknown', () => {
    expect(at({ depth: undefined, current: 3, lowerSince: 0 })).toMatchObject({ action: 'hold', desired: 3, code: 'depth-unknown' });
    expect(at({ depth: undefined, current: 0 })).toMatchObject({ action: 'up', count: 1, code: 'depth-unknown' });
  });
});
