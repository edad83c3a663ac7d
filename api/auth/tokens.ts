import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { HttpProblem } from '../../core/errors.ts';
import type { PriorityTier } from '../../core/resources.ts';

/**
 * Short-lived scoped tokens for browsers and apps (`POST /v1/tokens`): JWTs
 * signed HS256 with REELAY_TOKEN_SECRET (`jose`), carrying the tenant.
 * - `upload`: create one upload (POST /v1/videos, /v1/uploads, /v1/tus), optionally fixing priority and size;
 * - `watch`: the event streams of one video or channel, or of the whole tenant;
 * - `playback`: one video's status and outputs, or one live channel's HLS.
 */
export const TOKEN_SCOPES = ['upload', 'watch', 'playback'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export interface TokenClaims {
  /** The token's own id (JWT `jti`): an upload token is spent by the upload it creates. */
  id: string;
  tenant: string;
  scope: TokenScope;
  videoId?: string;
  channelId?: string;
  priority?: PriorityTier;
  maxBytes?: number;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export const DEFAULT_TOKEN_TTL_SECONDS = 15 * 60;
export const MAX_TOKEN_TTL_SECONDS = 24 * 3600;
const ISSUER = 'reelay';
const AUDIENCE = 'reelay-api';

export class TokenSigner {
  private readonly key: Uint8Array;
  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  async sign(claims: Omit<TokenClaims, 'id' | 'expiresAt'>, ttlSeconds: number): Promise<{ token: string; claims: TokenClaims }> {
    const id = randomUUID();
    const expiresAt = Math.floor(Date.now() / 1000) + ttlSeconds;
    const { tenant, scope, ...limits } = claims;
    const token = await new SignJWT({ scope, ...limits })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(tenant)
      .setJti(id)
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(this.key);
    return { token, claims: { ...claims, id, expiresAt } };
  }

  /** The claims of a valid token; a 401 problem for an expired, tampered or foreign one. */
  async verify(token: string): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
      const scope = payload.scope as TokenScope;
      if (
        !TOKEN_SCOPES.includes(scope) ||
        typeof payload.sub !== 'string' ||
        typeof payload.jti !== 'string' ||
        typeof payload.exp !== 'number'
      ) {
        throw new errors.JWTClaimValidationFailed('missing claims', payload);
      }
      const claims: TokenClaims = { id: payload.jti, tenant: payload.sub, scope, expiresAt: payload.exp };
      if (typeof payload.videoId === 'string') claims.videoId = payload.videoId;
      if (typeof payload.channelId === 'string') claims.channelId = payload.channelId;
      if (typeof payload.priority === 'string') claims.priority = payload.priority as PriorityTier;
      if (typeof payload.maxBytes === 'number') claims.maxBytes = payload.maxBytes;
      return claims;
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw tokenProblem('the token has expired; ask your backend for a new one', err);
      throw tokenProblem('the token is not valid (malformed, tampered with, or signed with another secret)', err);
    }
  }
}

function tokenProblem(detail: string, cause: unknown): HttpProblem {
  return new HttpProblem(401, 'Unauthorized', detail, {
    cause,
    headers: { 'www-authenticate': 'Bearer realm="reelay", error="invalid_token"' },
  });
}

/** A token used where its scope does not reach. */
export function outOfScope(detail: string): HttpProblem {
  return new HttpProblem(403, 'Forbidden', detail, {
    headers: { 'www-authenticate': 'Bearer realm="reelay", error="insufficient_scope"' },
  });
}

/** A JWT has three base64url parts; an API key never looks like one (keys are checked first anyway). */
export function looksLikeToken(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value);
}
