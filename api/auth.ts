import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { HttpProblem } from '../core/errors.ts';
import type { ApiKey } from '../core/config.ts';
import { DEFAULT_TENANT } from '../core/tenants.ts';
import type { AppEnv } from './app-env.ts';

/** Routes anyone may call: load balancers probe them without credentials. */
const PUBLIC_PATHS = new Set(['/healthz']);

/** Compares two secrets in time independent of where they differ (and of their lengths). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A short, stable, non-secret name for a key: for logs and per-key rate limits. */
export function keyId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

const unauthorized = (detail: string) =>
  new HttpProblem(401, 'Unauthorized', detail, { headers: { 'www-authenticate': 'Bearer realm="reelay"' } });

/**
 * `Authorization: Bearer <key>` on every route but /healthz. Every configured
 * key is compared (constant time each), so timing does not tell which one was
 * close. The key's tenant becomes the request's `tenant`. With no keys
 * (REELAY_AUTH=none) it names the caller `anonymous`, of tenant `default`.
 */
export function apiKeyAuth({ keys }: { keys: readonly ApiKey[] }): MiddlewareHandler<AppEnv> {
  return async function apiKeyAuthMiddleware(c, next) {
    if (keys.length === 0 || PUBLIC_PATHS.has(c.req.path)) {
      c.set('caller', 'anonymous');
      c.set('tenant', DEFAULT_TENANT);
      return next();
    }
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized('send an API key as `Authorization: Bearer <key>`');
    const given = match[1]!;
    let found: ApiKey | undefined;
    for (const entry of keys) if (sameSecret(given, entry.key)) found = entry;
    if (!found) throw unauthorized('the API key is not valid');
    c.set('caller', keyId(found.key));
    c.set('tenant', found.tenant);
    return next();
  };
}
