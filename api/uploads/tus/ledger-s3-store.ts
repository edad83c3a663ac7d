import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Part } from '@aws-sdk/client-s3';
import type { Upload } from '@tus/server';
import { S3Store, type MetadataValue, type Options } from '@tus/s3-store';
import { BoundedKvStore } from './bounded-kv-store.ts';

/**
 * `@tus/s3-store` with its part list kept in S3 objects of our own instead of
 * asking S3's `ListParts`.
 *
 * Why: the embedded emulator (fauxqs 2.4) has no ListParts. It routes
 * `GET /<bucket>/<key>?uploadId=…` to GetObject, which answers `NoSuchKey`
 * for an upload in progress; @tus/s3-store takes `NoSuchKey` from ListParts
 * to mean "already completed" and reports `Upload-Offset` = `Upload-Length`,
 * so a resumed upload would stop at once with a truncated object. (After
 * completion the same GET returns the object itself.) On AWS, ListParts works,
 * but the ledger is just as right there: a part is recorded only after S3
 * accepted it, so it never claims bytes S3 lacks (a part uploaded but not
 * recorded is sent again under the same number, which S3 replaces). One
 * object per part, so concurrent writers never overwrite each other (fauxqs
 * also ignores `If-Match`, which rules out a read-modify-write list).
 *
 * Ledger: `<upload id>.parts/<part number>` (JSON `{PartNumber, ETag, Size}`)
 * next to the store's own `<id>.info` and `<id>.part` objects.
 */
export class LedgerS3Store extends S3Store {
  /** The `.info` cache is bounded (see BoundedKvStore) unless one is given. */
  constructor(options: Options) {
    super({ cache: new BoundedKvStore<MetadataValue>(), ...options });
  }

  private ledgerKey(id: string, partNumber?: number): string {
    return `${id}.parts/${partNumber === undefined ? '' : String(partNumber).padStart(5, '0')}`;
  }

  /** Client metadata never becomes an S3 header (the store turns `contentType` and `cacheControl` into two). */
  override async create(upload: Upload): Promise<Upload> {
    if (upload.metadata) {
      const { contentType: _contentType, cacheControl: _cacheControl, ...rest } = upload.metadata;
      upload.metadata = rest;
    }
    return super.create(upload);
  }

  protected override async uploadPart(metadata: MetadataValue, readStream: Readable | Buffer, partNumber: number): Promise<string> {
    const size = Buffer.isBuffer(readStream)
      ? readStream.length
      : (await stat(String((readStream as { path?: string | Buffer }).path))).size;
    const etag = await super.uploadPart(metadata, readStream as Buffer, partNumber);
    const part: Part = { PartNumber: partNumber, ETag: etag, Size: size };
    await this.client.putObject({
      Bucket: this.bucket,
      Key: this.ledgerKey(metadata.file.id, partNumber),
      Body: JSON.stringify(part),
      ContentType: 'application/json',
    });
    return etag;
  }

  /** The consecutive parts from 1, from the ledger. */
  protected override async retrieveParts(id: string): Promise<Part[]> {
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.client.listObjectsV2({ Bucket: this.bucket, Prefix: this.ledgerKey(id), ContinuationToken });
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    const parts = await Promise.all(
      keys.map(async (Key) => {
        const { Body } = await this.client.getObject({ Bucket: this.bucket, Key });
        return JSON.parse(await Body!.transformToString()) as Part;
      }),
    );
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    // Only consecutive parts count (as the store expects from ListParts).
    const consecutive: Part[] = [];
    for (const part of parts) {
      if (part.PartNumber !== consecutive.length + 1) break;
      consecutive.push(part);
    }
    return consecutive;
  }

  /** The tus metadata of an upload (`Upload-Metadata`, as stored in `<id>.info`). */
  async uploadMetadata(id: string): Promise<Record<string, string | null> | undefined> {
    return (await this.getMetadata(id)).file.metadata;
  }

  /** Termination: the store's objects and the ledger. */
  override async remove(id: string): Promise<void> {
    await super.remove(id);
    await this.removeLedger(id);
  }

  async removeLedger(id: string): Promise<void> {
    const { Contents = [] } = await this.client.listObjectsV2({ Bucket: this.bucket, Prefix: this.ledgerKey(id) });
    if (Contents.length === 0) return;
    await this.client.deleteObjects({ Bucket: this.bucket, Delete: { Objects: Contents.map((o) => ({ Key: o.Key! })) } });
  }
}
