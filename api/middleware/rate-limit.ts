import type { MiddlewareHandler } from 'hono';
import { HttpProblem } from '../../core/errors.ts';
import type { AppEnv } from '../app-env.ts';

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

/**
 * 429 with `Retry-After` once a caller (an API key) has used its budget of
 * requests with one of `methods`; `what` and `setting` name it in the answer.
 */
export function rateLimit({
  perMinute,
  burst,
  methods,
  what,
  setting,
}: {
  perMinute: number;
  burst: number;
  methods: readonly string[];
  what: string;
  setting: string;
}): MiddlewareHandler<AppEnv> {
  const buckets = new TokenBuckets({ perMinute, burst });
  return async function rateLimitMiddleware(c, next) {
    if (perMinute > 0 && methods.includes(c.req.method)) {
      const waitMs = buckets.take(c.get('caller') ?? 'anonymous');
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        throw new HttpProblem(
          429,
          'Too Many Requests',
          `${what} rate limit of ${perMinute} per minute reached (${setting}); retry in ${seconds}s`,
          {
            headers: { 'retry-after': String(seconds) },
          },
        );
      }
    }
    return next();
  };
}

/** Uploads (POST /v1/videos) per key. */
export function uploadRateLimit({ perMinute, burst }: { perMinute: number; burst: number }): MiddlewareHandler<AppEnv> {
  return rateLimit({ perMinute, burst, methods: ['POST'], what: 'upload', setting: 'REELAY_UPLOAD_RATE_PER_MINUTE' });
}

/** Live channel starts and ends (POST/DELETE /v1/channels/:id/live) per key: each publishes an event to every subscriber. */
export function channelRateLimit(perMinute: number): MiddlewareHandler<AppEnv> {
  return rateLimit({
    perMinute,
    burst: Math.min(10, perMinute),
    methods: ['POST', 'DELETE'],
    what: 'live channel change',
    setting: 'REELAY_CHANNEL_RATE_PER_MINUTE',
  });
}
