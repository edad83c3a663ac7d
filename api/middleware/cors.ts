import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { AppEnv } from '../app-env.ts';

/** Request headers browsers may send: credentials, JSON, resumable (tus) uploads, SSE resumption. */
const ALLOW_HEADERS = [
  'authorization',
  'content-type',
  'last-event-id',
  'tus-resumable',
  'upload-length',
  'upload-offset',
  'upload-metadata',
  'upload-defer-length',
  'upload-concat',
  'x-http-method-override',
  'x-requested-with',
];
/** Response headers browser code may read. */
const EXPOSE_HEADERS = [
  'location',
  'x-request-id',
  'retry-after',
  'tus-resumable',
  'tus-version',
  'tus-extension',
  'tus-max-size',
  'upload-offset',
  'upload-length',
  'upload-metadata',
  'upload-expires',
];

/**
 * `REELAY_CORS_ORIGINS`: browsers on these origins may call the API (with a
 * token or a key in `Authorization`; no cookies are used, so no credentials
 * mode). Preflights are answered before authentication.
 */
export function apiCors(origins: readonly string[]): MiddlewareHandler<AppEnv> {
  const any = origins.includes('*');
  return cors({
    origin: any ? '*' : (origin) => (origins.includes(origin) ? origin : null),
    allowMethods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    allowHeaders: ALLOW_HEADERS,
    exposeHeaders: EXPOSE_HEADERS,
    maxAge: 600,
  }) as MiddlewareHandler<AppEnv>;
}
