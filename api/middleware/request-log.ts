import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../core/logger.ts';
import type { AppEnv } from '../app-env.ts';

/** Gives every request an id (kept from `x-request-id` when sane) and logs one line when it ends. */
export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async function requestLogMiddleware(c, next) {
    const given = c.req.header('x-request-id');
    const requestId = given && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      if (c.req.path !== '/healthz') {
        logger.info({ requestId, caller: c.get('caller'), method: c.req.method, path: c.req.path, status: c.res.status, ms }, 'request');
      }
    }
  };
}
