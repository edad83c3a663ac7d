import { DeleteObjectCommand, DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ReelayError } from './errors.ts';
import { JsonDocuments } from './json-documents.ts';
import { tenantFolder, tenantOf } from './tenants.ts';
import type { VideoStatus } from './video-status.ts';
import { mayTake, VIDEO_STEPS, type VideoStep } from './video-transitions.ts';

/** A job or request names a video that has no status document (never created, or deleted). */
export class UnknownVideoError extends ReelayError {
  override name = 'UnknownVideoError';
  readonly videoId: string;
  constructor(videoId: string) {
    super(`no status document for video ${videoId}`);
    this.videoId = videoId;
  }
}

/** Keys in the media bucket. */
const STATUS_FOLDER = 'status';
export const outputKey = (id: string, file: string) => `videos/${id}/${file}`;

/**
 * Newest first: S3 lists keys in ascending order, so the index key holds the inverted creation time.
 * One index per tenant (`index/` for `default`, as before tenants; `tenants/<t>/index/` for others),
 * so a tenant's pages hold only its own videos.
 */
const MAX_TIME = 9_999_999_999_999;
const indexPrefix = (tenant: string) => `${tenantFolder(tenant, 'index')}/`;
const indexKey = (doc: VideoStatus) =>
  `${indexPrefix(tenantOf(doc))}${String(MAX_TIME - Date.parse(doc.createdAt)).padStart(13, '0')}-${doc.id}`;

/**
 * What is left of a deleted video: a small marker (`deleted/<id>.json`) so a job still queued for it is
 * dropped rather than retried, and so `video.deleted` goes out even if the first try to publish it failed.
 */
export interface DeletedVideo {
  id: string;
  tenant: string;
  priority: VideoStatus['priority'];
  channelId?: string;
  deletedAt: string;
  /** True once `video.deleted` is published. */
  announced: boolean;
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
  private readonly docs: JsonDocuments<VideoStatus>;
  private readonly deleted: JsonDocuments<DeletedVideo>;
  constructor(s3: S3Client, bucket: string) {
    this.s3 = s3;
    this.bucket = bucket;
    this.docs = new JsonDocuments<VideoStatus>(s3, bucket, STATUS_FOLDER);
    this.deleted = new JsonDocuments<DeletedVideo>(s3, bucket, 'deleted');
  }

  /** The marker of a deleted video, if it was deleted. */
  async deletedVideo(id: string): Promise<DeletedVideo | undefined> {
    return this.deleted.get(id);
  }

  async putDeleted(mark: DeletedVideo): Promise<void> {
    await this.deleted.put(mark.id, mark);
  }

  /**
   * Removes a video from the media bucket: every object under `videos/<id>/` (outputs, and whatever else
   * workers wrote there), its index entry and its status document, last.
   */
  async remove(doc: VideoStatus): Promise<void> {
    const prefix = outputKey(doc.id, '');
    for (;;) {
      const { Contents = [], IsTruncated } = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix }));
      if (Contents.length > 0) {
        await this.s3.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: Contents.map((o) => ({ Key: o.Key! })), Quiet: true } }),
        );
      }
      if (!IsTruncated || Contents.length === 0) break;
    }
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: indexKey(doc) }));
    await this.docs.delete(doc.id);
  }

  /** Writes a new document; refuses to overwrite one that exists (`If-None-Match: *`). */
  async create(doc: VideoStatus): Promise<void> {
    await this.docs.create(doc.id, doc);
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: indexKey(doc), Body: '', ContentLength: 0 }));
  }

  /** Writes a document unconditionally (its only writer so far, e.g. the API right after creating it). */
  async put(doc: VideoStatus): Promise<void> {
    await this.docs.put(doc.id, doc);
  }

  async get(id: string): Promise<VideoStatus | undefined> {
    return this.docs.get(id);
  }

  /** The video if it belongs to `tenant`; another tenant's video is as absent as an unknown one. */
  async getOwned(id: string, tenant: string): Promise<VideoStatus | undefined> {
    const doc = await this.docs.get(id);
    return doc && tenantOf(doc) === tenant ? doc : undefined;
  }

  /**
   * Read, change, conditional write (`If-Match` on the ETag read): two writers
   * cannot silently overwrite each other; on a conflict the change is re-applied
   * to the fresh document (up to 5 times). `change` gets a copy and returns the
   * new state, or throws to give up.
   */
  async update(id: string, change: (doc: VideoStatus) => VideoStatus): Promise<VideoStatus> {
    const { doc } = await this.docs.update(id, (current) => {
      if (!current) throw new UnknownVideoError(id);
      const next = change(current);
      // A change of status is a named, guarded step: `transition`.
      if (next.status !== current.status) throw new Error(`update() cannot change the status of ${id}; use transition()`);
      return { ...next, updatedAt: new Date().toISOString() };
    });
    return doc!;
  }

  /**
   * Takes one step of the status machine (core/video-transitions.ts) with a
   * conditional write: `change` fills in what goes with it, the step sets the
   * status. Resolves to the new document, or to `undefined` without writing
   * when the current status does not allow the step (the video moved on, e.g.
   * another worker finished it). Throws UnknownVideoError when there is no
   * document.
   */
  async transition(
    id: string,
    step: VideoStep,
    change: (doc: VideoStatus) => Partial<VideoStatus> = () => ({}),
  ): Promise<VideoStatus | undefined> {
    const { doc, changed } = await this.docs.update(id, (current) => {
      if (!current) throw new UnknownVideoError(id);
      if (!mayTake(step, current.status)) return undefined;
      return { ...current, ...change(current), status: VIDEO_STEPS[step].to, updatedAt: new Date().toISOString() };
    });
    return changed ? doc : undefined;
  }

  /**
   * Marks a video that is still encoding as playable (its HLS master is stored): a conditional write like
   * `transition`, taken only from `processing` and only once. Resolves to the new document, or to
   * `undefined` when the video is not processing or was already playable (an earlier attempt marked it).
   */
  async markPlayable(id: string, hls: NonNullable<VideoStatus['hls']>, at = new Date().toISOString()): Promise<VideoStatus | undefined> {
    const { doc, changed } = await this.docs.update(id, (current) => {
      if (!current) throw new UnknownVideoError(id);
      if (current.status !== 'processing' || current.playable) return undefined;
      return { ...current, hls, playable: true, playableAt: at, playableAnnounced: false, updatedAt: new Date().toISOString() };
    });
    return changed ? doc : undefined;
  }

  /**
   * One tenant's videos, newest first, optionally filtered. The creation-time bounds narrow the index
   * listing itself; the other filters are checked on each document, reading at most `MAX_SCANNED` per
   * call, so a page may hold fewer than `limit` videos while `nextCursor` says there is more to look at.
   */
  async list({
    tenant,
    limit,
    cursor,
    filter = {},
  }: {
    tenant: string;
    limit: number;
    cursor?: string;
    filter?: VideoFilter;
  }): Promise<StatusPage> {
    const prefix = indexPrefix(tenant);
    // Keys hold the inverted creation time: "created before T" starts after T's keys, "after A" ends at A's.
    const beforeKey =
      filter.createdBefore !== undefined ? `${prefix}${invertedTime(filter.createdBefore)}-ZZZZZZZZZZZZZZZZZZZZZZZZZZ` : undefined;
    const afterKey = filter.createdAfter !== undefined ? `${prefix}${invertedTime(filter.createdAfter)}-` : undefined;
    let startAfter = [cursor ? decodeCursor(cursor, tenant) : undefined, beforeKey]
      .filter((k) => k !== undefined)
      .sort()
      .at(-1);
    const items: VideoStatus[] = [];
    for (let scanned = 0; scanned < MAX_SCANNED;) {
      const res = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          MaxKeys: Math.min(100, MAX_SCANNED - scanned),
          StartAfter: startAfter,
        }),
      );
      const keys = (res.Contents ?? []).map((o) => o.Key!).filter((k) => k && (afterKey === undefined || k < afterKey));
      const listedAll = !res.IsTruncated || keys.length < (res.Contents ?? []).length;
      for (let i = 0; i < keys.length; i += limit) {
        const batch = keys.slice(i, i + limit);
        const docs = await Promise.all(batch.map((key) => this.getOwned(key.slice(key.lastIndexOf('-') + 1), tenant)));
        for (const [j, doc] of docs.entries()) {
          scanned++;
          startAfter = batch[j];
          if (doc && matches(doc, filter)) items.push(doc);
          if (items.length === limit) {
            const more = j < batch.length - 1 || i + limit < keys.length || !listedAll;
            return more ? { items, nextCursor: encodeCursor(startAfter!) } : { items };
          }
        }
      }
      if (listedAll) return { items };
    }
    return { items, nextCursor: encodeCursor(startAfter!) };
  }
}

/** How many index entries one list call may look at before it answers with what it found and a cursor. */
const MAX_SCANNED = 1000;

export interface VideoFilter {
  status?: VideoStatus['status'];
  priority?: VideoStatus['priority'];
  channelId?: string;
  /** Milliseconds since the epoch; exclusive bounds on `createdAt`. */
  createdAfter?: number;
  createdBefore?: number;
}

const invertedTime = (ms: number) => String(MAX_TIME - ms).padStart(13, '0');

function matches(doc: VideoStatus, f: VideoFilter): boolean {
  const created = Date.parse(doc.createdAt);
  return (
    (f.status === undefined || doc.status === f.status) &&
    (f.priority === undefined || doc.priority === f.priority) &&
    (f.channelId === undefined || doc.channelId === f.channelId) &&
    (f.createdAfter === undefined || created > f.createdAfter) &&
    (f.createdBefore === undefined || created < f.createdBefore)
  );
}

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

/** Returns the index key a cursor stands for, or undefined when it is not one of ours (for this tenant). */
export function decodeCursor(cursor: string, tenant: string): string | undefined {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  const prefix = indexPrefix(tenant);
  return key.startsWith(prefix) && /^\d{13}-[0-9A-Z]{26}$/.test(key.slice(prefix.length)) ? key : undefined;
}
