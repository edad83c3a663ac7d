import { createHash, randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { JsonDocuments } from '../json-documents.ts';

/**
 * Stream keys: `sk_` + 32 random bytes (base64url). A key is shown once, when made; what is stored is its
 * SHA-256, both as the name of its lookup document (`stream-keys/<hash>.json` → tenant and channel) and on the
 * channel (the key the channel accepts now). A 256-bit random key needs no slow hash: its digest cannot be turned
 * back into it, so a copy of the bucket is not enough to publish. Rotation replaces the channel's hash at once.
 */
const STREAM_KEY = /^sk_[A-Za-z0-9_-]{43}$/;

export function newStreamKey(): string {
  return `sk_${randomBytes(32).toString('base64url')}`;
}

export function looksLikeStreamKey(value: string): boolean {
  return STREAM_KEY.test(value);
}

export function streamKeyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Which channel a key hash belongs to. */
export interface StreamKeyOwner {
  tenant: string;
  channelId: string;
  createdAt: string;
}

/** The lookup documents, one per key ever issued and not yet replaced. */
export class StreamKeyIndex {
  private readonly docs: JsonDocuments<StreamKeyOwner>;
  constructor(s3: S3Client, mediaBucket: string) {
    this.docs = new JsonDocuments(s3, mediaBucket, 'stream-keys');
  }

  async register(hash: string, owner: StreamKeyOwner): Promise<void> {
    await this.docs.create(hash, owner);
  }

  async owner(hash: string): Promise<StreamKeyOwner | undefined> {
    return this.docs.get(hash);
  }

  async remove(hash: string): Promise<void> {
    await this.docs.delete(hash);
  }
}
