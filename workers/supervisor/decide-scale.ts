import type { SupervisorSettings } from '../../core/config/index.ts';

export interface ScaleInput {
  /** Jobs on the tier queues, visible + in flight; undefined when the depth could not be read. */
  depth: number | undefined;
  /** Worker processes running and not being stopped. */
  current: number;
  /** Of those, how many hold a job or have not reported yet (never stopped). */
  busy: number;
  /** When the desired count first fell below `current` (ms since epoch); undefined while it is not lower. */
  lowerSince: number | undefined;
  now: number;
  settings: Pick<SupervisorSettings, 'minWorkers' | 'maxWorkers' | 'jobsPerWorker' | 'scaleDownCooldownMs'>;
}

/** Why the supervisor did what it did; `code` is stable for logs and tests, `reason` is for people. */
export type ScaleCode = 'backlog' | 'below-min' | 'steady' | 'cooldown' | 'all-busy' | 'surplus' | 'depth-unknown';

export interface ScaleDecision {
  action: 'up' | 'down' | 'hold';
  /** Workers to start (up) or idle workers to stop (down); 0 for hold. */
  count: number;
  desired: number;
  code: ScaleCode;
  reason: string;
  /** Carry into the next call's `lowerSince`. */
  lowerSince: number | undefined;
}

/**
 * The scaling rule, free of processes and clocks:
 * desired = clamp(ceil(depth / jobsPerWorker), min, max). Below it: start the
 * difference at once. Above it: wait until the desired count has been lower
 * for the whole cooldown, then stop idle workers only (a busy worker, or one
 * that has not reported yet, is never chosen). With the depth unknown, keep
 * what runs, but never fewer than the minimum.
 */
export function decideScale({ depth, current, busy, lowerSince, now, settings }: ScaleInput): ScaleDecision {
  const { minWorkers, maxWorkers, jobsPerWorker, scaleDownCooldownMs } = settings;
  const clamp = (n: number) => Math.min(maxWorkers, Math.max(minWorkers, n));

  if (depth === undefined) {
    const desired = clamp(current);
    if (current < desired)
      return up(desired - current, desired, 'depth-unknown', `queue depth unknown; keeping the minimum of ${plural(minWorkers, 'worker')}`);
    return hold(desired, 'depth-unknown', 'queue depth unknown; keeping the workers that run', undefined);
  }

  const needed = Math.ceil(depth / jobsPerWorker);
  const desired = clamp(needed);
  const capped = needed > maxWorkers ? ` (capped at the maximum ${maxWorkers})` : '';

  if (current < desired) {
    if (needed < minWorkers) return up(desired - current, desired, 'below-min', `below the minimum of ${plural(minWorkers, 'worker')}`);
    return up(
      desired - current,
      desired,
      'backlog',
      `${plural(depth, 'job')} at ${jobsPerWorker} per worker: ${plural(desired, 'worker')} wanted${capped}`,
    );
  }
  if (current === desired)
    return hold(desired, 'steady', `${plural(depth, 'job')}: ${plural(desired, 'worker')} wanted, as many as run${capped}`, undefined);

  const since = lowerSince ?? now;
  const waitedMs = now - since;
  if (waitedMs < scaleDownCooldownMs) {
    const left = Math.ceil((scaleDownCooldownMs - waitedMs) / 1000);
    return hold(
      desired,
      'cooldown',
      `${plural(depth, 'job')}: only ${plural(desired, 'worker')} wanted; scaling down if that holds ${left}s more`,
      since,
    );
  }
  const idle = Math.max(0, current - busy);
  const stop = Math.min(current - desired, idle);
  if (stop === 0) return hold(desired, 'all-busy', `${plural(current - desired, 'worker')} too many, but none is idle`, since);
  const remaining = current - stop;
  return {
    action: 'down',
    count: stop,
    desired,
    code: 'surplus',
    reason: `${plural(depth, 'job')}: only ${plural(desired, 'worker')} wanted for ${Math.round(waitedMs / 1000)}s; stopping ${stop} idle`,
    // Busy workers kept above the desired count go as soon as they are idle: the cooldown has already passed.
    lowerSince: remaining > desired ? since : undefined,
  };
}

function up(count: number, desired: number, code: ScaleCode, reason: string): ScaleDecision {
  return { action: 'up', count, desired, code, reason, lowerSince: undefined };
}

function hold(desired: number, code: ScaleCode, reason: string, lowerSince: number | undefined): ScaleDecision {
  return { action: 'hold', count: 0, desired, code, reason, lowerSince };
}

/** `1 worker`, `2 workers`. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
