import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
const MAX_UPDATE_ATTEMPTS = 5;

/** S3 answers 412 when If-Match/If-None-Match fails, 409 when two conditional writes race. */
export function isWriteConflict(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    e.name === 'PreconditionFailed' ||
    e.name === 'ConditionalRequestConflict' ||
    e.$metadata?.httpStatusCode === 412 ||
    e.$metadata?.httpStatusCode === 409
  );
}

/** What `update` did: the document as it now is, and whether this call wrote it. */
export interface UpdateResult<T> {
  doc: T | undefined;
  changed: boolean;
}

/**
 * Small JSON documents in one S3 "folder" (`<folder>/<id>.json`), written
 * with S3 conditional writes so concurrent API processes never overwrite each
 * other: `If-None-Match: *` to create, `If-Match: <etag>` to change. (fauxqs
 * ignores these headers; AWS S3 enforces them.)
 */
export class JsonDocuments<T> {
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly folder: string;
  /** What `list` last read of each document, by the ETag it had. */
  private readonly cache = new Map<string, { etag: string; doc: T }>();
  constructor(s3: S3Client, bucket: string, folder: string) {
    this.s3 = s3;
    this.bucket = bucket;
    this.folder = folder;
  }

  key(id: string): string {
    return `${this.folder}/${id}.json`;
  }

  async get(id: string): Promise<T | undefined> {
    return (await this.read(id))?.doc;
  }

  async read(id: string): Promise<{ doc: T; etag: string | undefined } | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(id) }));
      return { doc: JSON.parse(await res.Body!.transformToString()) as T, etag: res.ETag };
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  /** Writes a new document; refuses to overwrite one that exists. */
  async create(id: string, doc: T): Promise<void> {
    await this.write(id, doc, { IfNoneMatch: '*' });
  }

  /** Writes a document whatever is there: for a writer that owns it outright. */
  async put(id: string, doc: T): Promise<void> {
    await this.write(id, doc, {});
  }

  /**
   * Read, change, conditional write. `change` gets a copy of the current
   * document (undefined when there is none) and returns the new one, or
   * undefined to leave it as it is. On a conflicting write by someone else the
   * document is read again and `change` re-applied (up to 5 times).
   */
  async update(id: string, change: (doc: T | undefined) => T | undefined): Promise<UpdateResult<T>> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.read(id);
      const next = change(current ? structuredClone(current.doc) : undefined);
      if (next === undefined) return { doc: current?.doc, changed: false };
      try {
        await this.write(id, next, current ? (current.etag ? { IfMatch: current.etag } : {}) : { IfNoneMatch: '*' });
        return { doc: next, changed: true };
      } catch (err) {
        if (!isWriteConflict(err) || attempt >= MAX_UPDATE_ATTEMPTS) throw err;
      }
    }
  }

  async delete(id: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(id) }));
  }

  /**
   * Every document in the folder (a few hundred at most are expected: webhooks, channels). One listing,
   * and a GET only for a document whose ETag changed since this instance last read it: a caller that
   * lists on every event (the webhook fan-out) reads each document once per change, not once per event.
   */
  async list(): Promise<T[]> {
    const listed: { id: string; etag: string | undefined }[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.folder}/`, ContinuationToken }));
      for (const object of page.Contents ?? []) {
        if (object.Key?.endsWith('.json'))
          listed.push({ id: object.Key.slice(this.folder.length + 1, -'.json'.length), etag: object.ETag });
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    const present = new Set(listed.map(({ id }) => id));
    for (const id of this.cache.keys()) if (!present.has(id)) this.cache.delete(id);
    const docs: (T | undefined)[] = await Promise.all(
      listed.map(async ({ id, etag }): Promise<T | undefined> => {
        const cached = this.cache.get(id);
        if (cached && etag !== undefined && cached.etag === etag) return structuredClone(cached.doc);
        // A document deleted between the listing and the read is simply left out.
        const read = await this.read(id);
        if (!read) {
          this.cache.delete(id);
          return undefined;
        }
        if (etag !== undefined && read.etag === etag) this.cache.set(id, { etag, doc: structuredClone(read.doc) });
        else this.cache.delete(id);
        return read.doc;
      }),
    );
    return docs.filter((doc): doc is T => doc !== undefined);
  }

  private async write(id: string, doc: T, conditions: { IfMatch?: string; IfNoneMatch?: string }): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.key(id),
        Body: JSON.stringify(doc),
        ContentType: 'application/json',
        ...conditions,
      }),
    );
  }
}
