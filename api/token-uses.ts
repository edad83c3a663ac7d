import type { S3Client } from '@aws-sdk/client-s3';
import { isWriteConflict, JsonDocuments } from '../core/json-documents.ts';
import type { TokenClaims } from './tokens.ts';
import { outOfScope } from './tokens.ts';

interface TokenUse {
  tokenId: string;
  /** What the token was spent on, e.g. `video:<id>`, `upload:<id>`, `tus:<id>`. */
  resource: string;
  usedAt: string;
  /** When the token expires: after that the record no longer matters. */
  expiresAt: string;
}

/**
 * Upload tokens allow one upload. The first request that creates something
 * with a token records it in `token-uses/<jti>.json` (media bucket, written
 * with `If-None-Match: *`, so two API processes cannot both spend it); a later
 * request that would create another is a 403. The same upload continuing
 * (tus PATCH, direct-upload completion) is checked against the record instead.
 */
export class TokenUses {
  private readonly docs: JsonDocuments<TokenUse>;
  constructor(s3: S3Client, mediaBucket: string) {
    this.docs = new JsonDocuments(s3, mediaBucket, 'token-uses');
  }

  /** Spends the token on `resource`; 403 when it was already spent on something else. */
  async spend(token: TokenClaims, resource: string): Promise<void> {
    const existing = await this.docs.get(token.id);
    if (existing && existing.resource !== resource) throw spent();
    if (existing) return;
    const use: TokenUse = {
      tokenId: token.id,
      resource,
      usedAt: new Date().toISOString(),
      expiresAt: new Date(token.expiresAt * 1000).toISOString(),
    };
    try {
      await this.docs.create(token.id, use);
    } catch (err) {
      if (isWriteConflict(err)) throw spent();
      throw err;
    }
  }

  /** Whether the token was spent on exactly this resource (it may continue it). */
  async spentOn(token: TokenClaims, resource: string): Promise<boolean> {
    return (await this.docs.get(token.id))?.resource === resource;
  }
}

const spent = () => outOfScope('this upload token has already been used for another upload; ask for a new one');
