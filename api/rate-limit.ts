import type { MiddlewareHandler } from 'hono';
import { HttpProblem } from '../core/errors.ts';
import type { AppEnv } from './app-env.ts';

/**
 * Token buckets, one per caller: `burst` requests at once, refilled at
 * `perMinute`. In memory, so the limit is per API process; behind N
 * processes a caller gets up to N times the rate.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor({ perMinute, burst, now = Date.now }: { perMinute: number; burst: number; now?: () => number }) {
    this.perMs = perMinute / 60_000;
    this.burst = burst;
    this.now = now;
  }

  /** Takes a token; returns 0 when allowed, else the milliseconds until one is available. */
  take(caller: string): number {
    const now = this.now();
    const bucket = this.buckets.get(caller) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    this.buckets.set(caller, bucket);
    if (this.buckets.size > 10_000) this.forgetFull(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.perMs);
  }

  /** Full buckets carry no state worth keeping. */
  private forgetFull(now: number): void {
    for (const [caller, b] of this.buckets) {
      if (b.tokens + (now - b.at) * this.perMs >= this.burst) this.buckets.delete(caller);
    }
  }
}

/** 429 with `Retry-After` once a caller has used its uploads. */
export function uploadRateLimit({ perMinute, burst }: { perMinute: number; burst: number }): MiddlewareHandler<AppEnv> {
  const buckets = new TokenBuckets({ perMinute, burst });
  return async function uploadRateLimitMiddleware(c, next) {
    if (perMinute > 0 && c.req.method === 'POST') {
      const waitMs = buckets.take(c.get('caller') ?? 'anonymous');
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        throw new HttpProblem(429, 'Too Many Requests', `upload rate limit of ${perMinute} per minute reached; retry in ${seconds}s`, {
          headers: { 'retry-after': String(seconds) },
        });
      }
    }
    return next();
  };
}
