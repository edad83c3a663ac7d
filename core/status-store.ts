import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { VideoStatus } from './video-status.ts';

/** Keys in the media bucket. */
export const statusKey = (id: string) => `status/${id}.json`;
export const outputKey = (id: string, file: string) => `videos/${id}/${file}`;

/** Newest first: S3 lists keys in ascending order, so the index key holds the inverted creation time. */
const MAX_TIME = 9_999_999_999_999;
const indexKey = (id: string, createdAt: string) =>
  `index/${String(MAX_TIME - Date.parse(createdAt)).padStart(13, '0')}-${id}`;

const MAX_UPDATE_ATTEMPTS = 5;

/** S3 answers 412 when If-Match/If-None-Match fails, 409 when two conditional writes race. */
export function isWriteConflict(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'PreconditionFailed' || e.name === 'ConditionalRequestConflict' || e.$metadata?.httpStatusCode === 412 || e.$metadata?.httpStatusCode === 409;
}

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

  /** Writes a new document; refuses to overwrite one that exists (`If-None-Match: *`). */
  async create(doc: VideoStatus): Promise<void> {
    await this.put(doc, { ifNoneMatch: '*' });
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: indexKey(doc.id, doc.createdAt), Body: '', ContentLength: 0 }));
  }

  /**
   * Writes a document. With `ifMatch`, S3 refuses the write (412) when someone
   * else wrote since that ETag was read: two writers cannot silently overwrite
   * each other. (Emulators without conditional writes ignore the header.)
   */
  async put(doc: VideoStatus, { ifMatch, ifNoneMatch }: { ifMatch?: string; ifNoneMatch?: string } = {}): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: statusKey(doc.id),
        Body: JSON.stringify(doc),
        ContentType: 'application/json',
        ...(ifMatch ? { IfMatch: ifMatch } : {}),
        ...(ifNoneMatch ? { IfNoneMatch: ifNoneMatch } : {}),
      }),
    );
  }

  async get(id: string): Promise<VideoStatus | undefined> {
    return (await this.read(id))?.doc;
  }

  /** The document and its ETag, or undefined when there is none. */
  async read(id: string): Promise<{ doc: VideoStatus; etag: string | undefined } | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: statusKey(id) }));
      return { doc: JSON.parse(await res.Body!.transformToString()) as VideoStatus, etag: res.ETag };
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  /**
   * Read, change, conditional write; on a conflicting write by someone else,
   * read again and re-apply `change` (up to 5 times). `change` gets a copy and
   * returns the new state, or throws to give up.
   */
  async update(id: string, change: (doc: VideoStatus) => VideoStatus): Promise<VideoStatus> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.read(id);
      if (!current) throw new Error(`no status document for video ${id}`);
      const next = { ...change(structuredClone(current.doc)), updatedAt: new Date().toISOString() };
      try {
        await this.put(next, current.etag ? { ifMatch: current.etag } : {});
        return next;
      } catch (err) {
        if (!isWriteConflict(err) || attempt >= MAX_UPDATE_ATTEMPTS) throw err;
      }
    }
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
