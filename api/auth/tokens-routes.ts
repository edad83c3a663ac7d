import { Hono } from 'hono';
import { z } from 'zod';
import { HttpProblem } from '../../core/errors.ts';
import { isChannelId, isVideoId } from '../../core/ids.ts';
import { PRIORITY_TIERS } from '../../core/resources.ts';
import type { StatusStore } from '../../core/status-store.ts';
import type { AppEnv } from '../app-env.ts';
import { jsonBodyLimit, readJsonBody } from '../middleware/json-body.ts';
import { badRequest, notFound } from '../middleware/problem.ts';
import { DEFAULT_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS, TOKEN_SCOPES, type TokenClaims, type TokenSigner } from './tokens.ts';
import type { OperationDocs } from '../openapi.ts';

export interface TokenRoutesDeps {
  /** Undefined when REELAY_TOKEN_SECRET is not set: the route answers 503 saying so. */
  signer: TokenSigner | undefined;
  store: StatusStore;
  maxUploadBytes: number;
}

export const body = z.strictObject({
  scope: z.enum(TOKEN_SCOPES),
  videoId: z.string().refine(isVideoId, 'not a video id').optional(),
  channelId: z.string().refine(isChannelId, 'not a channel id').optional(),
  ttlSeconds: z.number().int().min(1).max(MAX_TOKEN_TTL_SECONDS).optional(),
  priority: z.enum(PRIORITY_TIERS).optional(),
  maxBytes: z.number().int().min(1).optional(),
});

/**
 * `POST /v1/tokens` (API key only): a short-lived token for a browser or app.
 * `{"scope":"upload"|"watch"|"playback","videoId"?,"channelId"?,"ttlSeconds"?,"priority"?,"maxBytes"?}`
 * → `201 {token, expiresAt, scope, …}`.
 */
export function tokenRoutes({ signer, store, maxUploadBytes }: TokenRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post('/', jsonBodyLimit(), async (c) => {
    if (!signer)
      throw new HttpProblem(
        503,
        'Service Unavailable',
        'scoped tokens are not enabled: set REELAY_TOKEN_SECRET (32+ characters) on every API process',
      );
    const request = await readJsonBody(c, body);
    const tenant = c.get('tenant');
    const { scope, videoId, channelId, priority, maxBytes, ttlSeconds = DEFAULT_TOKEN_TTL_SECONDS } = request;
    if (scope === 'playback' && !videoId === !channelId)
      throw badRequest('a playback token plays one video (videoId) or one live channel (channelId): give exactly one');
    if (scope === 'watch' && videoId && channelId)
      throw badRequest('a watch token is for one video or one channel (or the whole tenant), not both');
    if (scope === 'upload' && videoId) throw badRequest('an upload token creates a new video: drop videoId');
    if (scope !== 'upload' && (priority !== undefined || maxBytes !== undefined))
      throw badRequest('priority and maxBytes are limits of upload tokens');
    if (maxBytes !== undefined && maxBytes > maxUploadBytes)
      throw badRequest(`maxBytes is larger than this API's upload limit (${maxUploadBytes} bytes)`);
    // A token for another tenant's video would only ever answer 404; say so now.
    if (videoId && !(await store.getOwned(videoId, tenant))) throw notFound(`no video with id ${videoId}`);

    const claims: Omit<TokenClaims, 'id' | 'expiresAt'> = { tenant, scope };
    if (videoId) claims.videoId = videoId;
    if (channelId) claims.channelId = channelId;
    if (priority) claims.priority = priority;
    if (maxBytes !== undefined) claims.maxBytes = maxBytes;
    const { token, claims: signed } = await signer.sign(claims, ttlSeconds);
    c.header('cache-control', 'no-store');
    return c.json({ token, expiresAt: new Date(signed.expiresAt * 1000).toISOString(), ...claims }, 201);
  });
  return app;
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const TOKEN_OPERATIONS: OperationDocs = {
  'POST /v1/tokens': {
    summary: 'Mint a short-lived upload, watch or playback token',
    tag: 'tokens',
    success: [201, 'the token'],
    errors: [400, 401, 403],
    body: { schema: body },
  },
};
