import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { HttpProblem } from '../../core/errors.ts';
import { newVideoId } from '../../core/ids.ts';
import { JsonDocuments } from '../../core/json-documents.ts';
import type { PriorityTier } from '../../core/resources.ts';
import { MIN_PART_BYTES } from '../../core/s3-multipart.ts';
import { tenantOf } from '../../core/tenants.ts';
import type { StatusStore } from '../../core/status-store.ts';
import type { VideoStatus } from '../../core/video-status.ts';
import type { Ingest } from './ingest.ts';
import { badRequest, notFound } from '../middleware/problem.ts';

/** S3's limit: 10,000 parts at most (and MIN_PART_BYTES a part, but the last). */
const MAX_PARTS = 10_000;
/** How long the presigned part URLs (and the upload itself, for the API) stay valid. */
export const DIRECT_UPLOAD_TTL_SECONDS = 6 * 3600;

/** `direct-uploads/<id>.json` in the media bucket: what the API needs to complete or abort the upload. */
export interface DirectUpload {
  id: string;
  tenant: string;
  uploadId: string;
  key: string;
  size: number;
  partSize: number;
  contentType: string;
  filename?: string;
  priority: PriorityTier;
  title?: string;
  channelId?: string;
  createdAt: string;
  expiresAt: string;
  /** Set once completed: a repeated completion answers with the same video. */
  completed?: boolean;
}

/** The part size for `size` bytes: S3's minimum, or larger (whole MiB) so there are at most 10,000 parts. */
export function partSizeFor(size: number): number {
  const needed = Math.ceil(size / MAX_PARTS);
  return Math.max(MIN_PART_BYTES, Math.ceil(needed / (1024 * 1024)) * 1024 * 1024);
}

/**
 * Direct-to-S3 uploads: the API creates the multipart upload and presigns
 * one `UploadPart` URL per part; the client PUTs the bytes straight to S3 and
 * then asks the API to complete. The video exists only once the object is
 * complete and has the announced size. Abandoned uploads are aborted by the
 * raw bucket's lifecycle rule (incomplete multipart uploads, after a day).
 */
export class DirectUploads {
  private readonly s3: S3Client;
  private readonly rawBucket: string;
  private readonly docs: JsonDocuments<DirectUpload>;
  private readonly ingest: Ingest;
  private readonly store: StatusStore;
  constructor({
    s3,
    rawBucket,
    mediaBucket,
    ingest,
    store,
  }: {
    s3: S3Client;
    rawBucket: string;
    mediaBucket: string;
    ingest: Ingest;
    store: StatusStore;
  }) {
    this.store = store;
    this.s3 = s3;
    this.rawBucket = rawBucket;
    this.docs = new JsonDocuments(s3, mediaBucket, 'direct-uploads');
    this.ingest = ingest;
  }

  newId(): string {
    return newVideoId();
  }

  async create(id: string, upload: Omit<DirectUpload, 'id' | 'uploadId' | 'key' | 'partSize' | 'createdAt' | 'expiresAt'>) {
    const key = `uploads/${id}`;
    const partSize = partSizeFor(upload.size);
    const { UploadId } = await this.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: this.rawBucket,
        Key: key,
        ContentType: upload.contentType,
        Metadata: { 'video-id': id, ...(upload.filename ? { filename: encodeURIComponent(upload.filename).slice(0, 1024) } : {}) },
      }),
    );
    if (!UploadId) throw new HttpProblem(503, 'Service Unavailable', 'S3 did not start the multipart upload');
    const now = Date.now();
    const doc: DirectUpload = {
      ...upload,
      id,
      uploadId: UploadId,
      key,
      partSize,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + DIRECT_UPLOAD_TTL_SECONDS * 1000).toISOString(),
    };
    await this.docs.create(id, doc);
    const count = Math.max(1, Math.ceil(upload.size / partSize));
    // Each URL signs its part's exact size (`Content-Length` is a signed header): S3 refuses a PUT of any other
    // size, so the parts add up to the declared size, which the admission held to the token's maxBytes.
    const parts = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const bytes = Math.min(partSize, upload.size - i * partSize);
        const command = new UploadPartCommand({ Bucket: this.rawBucket, Key: key, UploadId, PartNumber: i + 1, ContentLength: bytes });
        return { partNumber: i + 1, bytes, url: await getSignedUrl(this.s3, command, { expiresIn: DIRECT_UPLOAD_TTL_SECONDS }) };
      }),
    );
    return { doc, parts };
  }

  /** The tenant's upload; another tenant's (or an unknown one) is a 404. */
  async get(id: string, tenant: string): Promise<DirectUpload> {
    const doc = await this.docs.get(id);
    if (!doc || tenantOf(doc) !== tenant) throw notFound(`no upload with id ${JSON.stringify(id.slice(0, 50))}`);
    return doc;
  }

  /**
   * Completes the multipart upload from the client's part list, checks the
   * object (every part, the announced size) and queues the video.
   */
  async complete(doc: DirectUpload, parts: { partNumber: number; etag: string }[]): Promise<VideoStatus> {
    if (doc.completed) {
      const video = await this.store.get(doc.id);
      if (video) return video;
    }
    const expected = Math.max(1, Math.ceil(doc.size / doc.partSize));
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    if (sorted.length !== expected || sorted.some((p, i) => p.partNumber !== i + 1)) {
      throw badRequest(`send every part, numbered 1 to ${expected}, each once; got ${sorted.length} part(s)`);
    }
    try {
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.rawBucket,
          Key: doc.key,
          UploadId: doc.uploadId,
          MultipartUpload: { Parts: sorted.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        }),
      );
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      if (/InvalidPart|InvalidPartOrder|EntityTooSmall|NoSuchUpload/.test(name)) {
        throw badRequest(`S3 refused to complete the upload (${name}): upload every part to its URL and send back each part's ETag`);
      }
      throw new HttpProblem(503, 'Service Unavailable', `completing the upload failed: ${(err as Error).message}`, { cause: err });
    }
    const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.rawBucket, Key: doc.key }));
    if (head.ContentLength !== doc.size) {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.rawBucket, Key: doc.key })).catch(() => undefined);
      await this.docs.delete(doc.id).catch(() => undefined);
      throw badRequest(
        `the uploaded object has ${head.ContentLength} bytes, not the ${doc.size} announced; the upload is discarded, start again`,
      );
    }
    await this.docs.put(doc.id, { ...doc, completed: true });
    return this.ingest.enqueue(
      {
        id: doc.id,
        key: doc.key,
        bytes: doc.size,
        info: { contentType: doc.contentType, ...(doc.filename ? { filename: doc.filename } : {}) },
      },
      {
        tenant: doc.tenant,
        priority: doc.priority,
        ...(doc.title ? { title: doc.title } : {}),
        ...(doc.channelId ? { channelId: doc.channelId } : {}),
      },
    );
  }

  /** Aborts the multipart upload (its parts are deleted) and forgets it. */
  async abort(doc: DirectUpload): Promise<void> {
    if (doc.completed) throw new HttpProblem(409, 'Conflict', `upload ${doc.id} is complete: it is video ${doc.id} now`);
    await this.s3
      .send(new AbortMultipartUploadCommand({ Bucket: this.rawBucket, Key: doc.key, UploadId: doc.uploadId }))
      .catch((err: unknown) => {
        if (!/NoSuchUpload/.test((err as { name?: string }).name ?? '')) throw err;
      });
    await this.docs.delete(doc.id);
  }
}
