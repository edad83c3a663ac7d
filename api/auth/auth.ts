import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { HttpProblem } from '../../core/errors.ts';
import type { ApiKey } from '../../core/config/index.ts';
import { DEFAULT_TENANT } from '../../core/tenants.ts';
import type { AppEnv } from '../app-env.ts';
import { looksLikeToken, outOfScope, type TokenScope, type TokenSigner } from './tokens.ts';

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
 * Where a scoped token may stand in for an API key, and the scope it needs
 * there (issue #10): the event streams, the upload routes, a video's status,
 * playback files and outputs (not its original upload, `/source`: issue #23), a live
 * channel's HLS. Everything else (tokens, webhooks, channels, lists) takes an API key only.
 */
export function tokenScopeForRoute(method: string, path: string): TokenScope | undefined {
  const read = method === 'GET' || method === 'HEAD';
  if (read && (path === '/v1/events' || path === '/v1/ws')) return 'watch';
  if (method === 'POST' && (path === '/v1/videos' || path === '/v1/videos/')) return 'upload';
  if (/^\/v1\/(uploads|tus)(\/|$)/.test(path)) return 'upload';
  // Playback covers what a player fetches (status, HLS, storyboard, outputs), never the original upload.
  if (read && /^\/v1\/videos\/[^/]+\/source\/?$/.test(path)) return undefined;
  if (read && /^\/v1\/videos\/[^/]+(\/|$)/.test(path)) return 'playback';
  if (read && LIVE_HLS_PATH.test(path)) return 'playback';
  return undefined;
}

/** `/v1/channels/:channelId/live/<file>` and `…/live/<rendition>/<file>`: a channel's live presentation. */
const LIVE_HLS_PATH = /^\/v1\/channels\/([^/]+)\/live\/[^/]+(\/[^/]+)?$/;

/** A `playback` token reaches one video (`/v1/videos/:id/…`) or one channel's live presentation. */
function playbackTarget(path: string): { videoId?: string; channelId?: string } {
  const channelId = LIVE_HLS_PATH.exec(path)?.[1];
  if (channelId !== undefined) return { channelId };
  return { videoId: /^\/v1\/videos\/([^/]+)/.exec(path)?.[1] };
}

/**
 * `Authorization: Bearer <key>` on every route but the public ones; a scoped token
 * (`Bearer <token>` or `?token=`) on the routes `tokenScopeForRoute` names.
 * Every configured key is compared (constant time each), so timing does not
 * tell which one was close. The key's (or token's) tenant becomes the
 * request's `tenant`. With no keys (REELAY_AUTH=none) a request without
 * credentials is `anonymous`, of tenant `default`; a token is still checked.
 */
export function apiKeyAuth({
  keys,
  tokens,
  publicPaths,
}: {
  keys: readonly ApiKey[];
  tokens?: TokenSigner | undefined;
  /** Paths anyone may call, without credentials (health checks, the docs, the web page). */
  publicPaths: ReadonlySet<string>;
}): MiddlewareHandler<AppEnv> {
  return async function apiKeyAuthMiddleware(c, next) {
    c.set('token', undefined);
    if (publicPaths.has(c.req.path) || c.req.method === 'OPTIONS') {
      c.set('caller', 'anonymous');
      c.set('tenant', DEFAULT_TENANT);
      return next();
    }
    const header = c.req.header('authorization');
    const bearer = header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (header !== undefined && bearer === undefined && keys.length > 0)
      throw unauthorized('send an API key as `Authorization: Bearer <key>`');
    const queryToken = c.req.query('token');

    let found: ApiKey | undefined;
    if (bearer !== undefined) for (const entry of keys) if (sameSecret(bearer, entry.key)) found = entry;
    if (found) {
      c.set('caller', keyId(found.key));
      c.set('tenant', found.tenant);
      return next();
    }
    const token = bearer !== undefined && looksLikeToken(bearer) ? bearer : queryToken;
    if (token === undefined || (keys.length === 0 && !tokens)) {
      if (keys.length > 0)
        throw unauthorized(bearer === undefined ? 'send an API key as `Authorization: Bearer <key>`' : 'the API key is not valid');
      c.set('caller', 'anonymous');
      c.set('tenant', DEFAULT_TENANT);
      return next();
    }
    if (!tokens) throw unauthorized('scoped tokens are not enabled on this API (REELAY_TOKEN_SECRET is not set)');
    const claims = await tokens.verify(token);
    const needed = tokenScopeForRoute(c.req.method, c.req.path);
    if (!needed) throw outOfScope(`a token cannot be used on ${c.req.method} ${c.req.path}; this route takes an API key`);
    if (claims.scope !== needed) throw outOfScope(`this route needs a ${needed} token; this one is a ${claims.scope} token`);
    if (needed === 'playback') {
      const { videoId, channelId } = playbackTarget(c.req.path);
      if (channelId !== undefined ? channelId !== claims.channelId : videoId !== claims.videoId) {
        throw outOfScope(`this playback token is for another ${channelId !== undefined ? 'channel' : 'video'}`);
      }
    }
    c.set('caller', `token:${claims.id.slice(0, 8)}`);
    c.set('tenant', claims.tenant);
    c.set('token', claims);
    return next();
  };
}
