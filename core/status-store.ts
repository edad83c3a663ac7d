import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { VideoStatus } from './video-status.ts';

/** Keys in the media bucket. */
export const statusKey = (id: string) => `status/${id}.json`;
export const outputKey = (id: string, file: string) => `videos/${id}/${file}`;

/** Newest first: S3 lists keys in ascending order, so the index key holds the inverted creation time. */
const MAX_TIME = 9_999_999_999_999;
const indexKey = (id: string, createdAt: string) =>
  `index/${String(MAX_TIME - Date.parse(createdAt)).padStart(13, '0')}-${id}`;

export interface StatusPage {
  items: VideoStatus[];
  /** Opaque cursor for the next page, absent on the last one. */
  nextCursor?: string;
}

/**
 * Video status documents, one JSON object per video in the media bucket, plus
 * an empty index object per video for newest-first listing. S3 is the only
 * shared state, so any number of API and worker processes can use it.
 */
export class StatusStore {
  private readonly s3: S3Client;
  private readonly bucket: string;
  constructor(s3: S3Client, bucket: string) {
    this.s3 = s3;
    this.bucket = bucket;
  }

  async create(doc: VideoStatus): Promise<void> {
    await this.put(doc);
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: indexKey(doc.id, doc.createdAt), Body: '' }));
  }

  async put(doc: VideoStatus): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: statusKey(doc.id),
        Body: JSON.stringify(doc),
        ContentType: 'application/json',
      }),
    );
  }

  async get(id: string): Promise<VideoStatus | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: statusKey(id) }));
      return JSON.parse(await res.Body!.transformToString()) as VideoStatus;
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  /** Reads, changes and writes one document; `change` gets a copy and returns the new state. */
  async update(id: string, change: (doc: VideoStatus) => VideoStatus): Promise<VideoStatus> {
    const current = await this.get(id);
    if (!current) throw new Error(`no status document for video ${id}`);
    const next = { ...change(structuredClone(current)), updatedAt: new Date().toISOString() };
    await this.put(next);
    return next;
  }

  async list({ limit, cursor }: { limit: number; cursor?: string }): Promise<StatusPage> {
    const startAfter = cursor ? decodeCursor(cursor) : undefined;
    const res = await this.s3.send(
      new ListObjectsV2Command({ Bucket: this.bucket, Prefix: 'index/', MaxKeys: limit, StartAfter: startAfter }),
    );
    const keys = (res.Contents ?? []).map((o) => o.Key!).filter(Boolean);
    const docs = await Promise.all(keys.map((key) => this.get(key.slice(key.lastIndexOf('-') + 1))));
    const items = docs.filter((d): d is VideoStatus => d !== undefined);
    const last = keys.at(-1);
    return res.IsTruncated && last ? { items, nextCursor: encodeCursor(last) } : { items };
  }
}

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

/** Returns the index key a cursor stands for, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): string | undefined {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^index\/\d{13}-[0-9A-Z]{26}$/.test(key) ? key : undefined;
}
