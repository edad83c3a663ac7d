import type { MiddlewareHandler } from 'hono';
import { HttpProblem } from '../../core/errors.ts';
import type { AppEnv } from '../app-env.ts';

/**
 * At most `max` things at once per caller (an API key): uploads in progress,
 * open event streams. In memory, so per API process, like the rate limits.
 * `max` 0 = no limit.
 */
export class ConcurrencyLimit {
  private readonly counts = new Map<string, number>();
  readonly max: number;
  constructor(max: number) {
    this.max = max;
  }

  /** A release function (call it exactly once; later calls do nothing), or undefined when the caller is at its limit. */
  tryAcquire(caller: string): (() => void) | undefined {
    const count = this.counts.get(caller) ?? 0;
    if (this.max > 0 && count >= this.max) return undefined;
    this.counts.set(caller, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(caller) ?? 1) - 1;
      if (left > 0) this.counts.set(caller, left);
      else this.counts.delete(caller);
    };
  }

  inUse(caller: string): number {
    return this.counts.get(caller) ?? 0;
  }
}

/** 429 for a caller at its limit of `what` (e.g. "uploads in progress"), naming the setting. */
export function tooManyAtOnce(what: string, max: number, setting: string): HttpProblem {
  return new HttpProblem(429, 'Too Many Requests', `this API key already has ${max} ${what} (${setting}); wait for one to end`, {
    headers: { 'retry-after': '1', connection: 'close' },
  });
}

/**
 * Request bodies that carry video (POST /v1/videos, tus PATCH): at most `max` in progress per key; the slot
 * is held until the request is answered.
 */
export function concurrentUploadLimit(max: number): MiddlewareHandler<AppEnv> {
  const limit = new ConcurrencyLimit(max);
  return async function concurrentUploadMiddleware(c, next) {
    if ((c.req.method !== 'POST' && c.req.method !== 'PATCH') || max === 0) return next();
    const release = limit.tryAcquire(c.get('caller') ?? 'anonymous');
    if (!release) throw tooManyAtOnce('uploads in progress', max, 'REELAY_MAX_CONCURRENT_UPLOADS');
    try {
      await next();
    } finally {
      release();
    }
  };
}
