import type { S3Client } from '@aws-sdk/client-s3';
import { isWriteConflict, JsonDocuments } from '../../core/json-documents.ts';
import type { TokenClaims } from '../auth/tokens.ts';
import { outOfScope } from '../auth/tokens.ts';

interface TokenUse {
  tokenId: string;
  /** What the token was spent on: `video:<id>`, the video its upload became (or is becoming). */
  resource: string;
  usedAt: string;
  /** When the token expires: after that the record no longer matters. */
  expiresAt: string;
}

/**
 * Upload tokens allow one upload. The upload a token is accepted for records
 * it in `token-uses/<jti>.json` (media bucket, written with `If-None-Match: *`,
 * so two API processes cannot both spend it) under the new video's id — an id
 * the server made, never one the client chose; a later request that would
 * create another video is a 403. The same upload continuing (tus PATCH,
 * direct-upload completion) is checked against the record instead.
 */
export class TokenUses {
  private readonly docs: JsonDocuments<TokenUse>;
  /** `token-uses/videos/<videoId>.json`: which token a video was made with, so its deletion finds the record. */
  private readonly byVideo: JsonDocuments<{ tokenId: string }>;
  constructor(s3: S3Client, mediaBucket: string) {
    this.docs = new JsonDocuments(s3, mediaBucket, 'token-uses');
    this.byVideo = new JsonDocuments(s3, mediaBucket, 'token-uses/videos');
  }

  /**
   * A deleted video: its token stays spent (the record remains until the token expires) but no longer names
   * the video, and the pointer from the video goes.
   */
  async forgetVideo(videoId: string): Promise<void> {
    const pointer = await this.byVideo.get(videoId);
    if (!pointer) return;
    const use = await this.docs.get(pointer.tokenId);
    if (use?.resource === resourceOf(videoId)) await this.docs.put(pointer.tokenId, { ...use, resource: 'deleted' });
    await this.byVideo.delete(videoId);
  }

  /** Spends the token on the video `videoId`; 403 when it was already spent on another. */
  async spend(token: TokenClaims, videoId: string): Promise<void> {
    const resource = resourceOf(videoId);
    const existing = await this.docs.get(token.id);
    if (existing && existing.resource !== resource) throw spentToken();
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
      if (isWriteConflict(err)) throw spentToken();
      throw err;
    }
    await this.byVideo.put(videoId, { tokenId: token.id });
  }

  /** Whether the token was spent at all (a new upload with it would be refused). */
  async isSpent(token: TokenClaims): Promise<boolean> {
    return (await this.docs.get(token.id)) !== undefined;
  }

  /** Whether the token was spent on exactly this video (it may continue its upload). */
  async spentOn(token: TokenClaims, videoId: string): Promise<boolean> {
    return (await this.docs.get(token.id))?.resource === resourceOf(videoId);
  }
}

const resourceOf = (videoId: string) => `video:${videoId}`;

/** The 403 for an upload token used a second time. */
export const spentToken = () => outOfScope('this upload token has already been used for another upload; ask for a new one');
