import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { decodeTime, encodeTime } from 'ulid';
import { isVideoId } from '../../core/ids.ts';
import type { Logger } from '../../core/logger.ts';
import type { StatusStore } from '../../core/status-store.ts';

/** A raw upload with no video this long after it started is an orphan (no upload takes a day to record). */
export const ORPHAN_MIN_AGE_MS = 24 * 3600_000;
/** How far back each sweep looks: uploads older than this were looked at by earlier sweeps. */
export const ORPHAN_WINDOW_MS = 7 * 24 * 3600_000;
export const ORPHAN_SWEEP_EVERY_MS = 6 * 3600_000;

/** Ids known to have a video, so later sweeps do not read their status again (bounded). */
const REMEMBERED = 100_000;

export interface OrphanSweepDeps {
  s3: S3Client;
  rawBucket: string;
  store: StatusStore;
  logger: Logger;
}

/**
 * The safety net under "a rejected upload leaves no raw object": every error
 * path deletes what it stored, but a process that dies between storing a file
 * and recording its video cannot. Raw objects are `uploads/<ULID>`, so keys
 * sort by upload time: one listing from `now − window` reaches the uploads
 * between `window` and `minAge` old, and each of them without a status
 * document is deleted.
 *
 * tus uploads (`tus/<ULID>` plus `.info`, `.part` and the `.parts/` ledger)
 * expire the same way: one abandoned for `minAge` (a day, the tus
 * expiration) is aborted and deleted whole; one that became a video keeps
 * only `tus/<ULID>`, its source (the `.info` holds the file name and title).
 */
export class OrphanUploadSweeper {
  private readonly deps: OrphanSweepDeps;
  private readonly known = new Set<string>();
  constructor(deps: OrphanSweepDeps) {
    this.deps = deps;
  }

  async sweep({ minAgeMs = ORPHAN_MIN_AGE_MS, windowMs = ORPHAN_WINDOW_MS, now = Date.now() } = {}): Promise<{
    checked: number;
    removed: string[];
    /** tus uploads whose bookkeeping (`.info`, `.part`, ledger) was deleted: abandoned, or finished long ago. */
    tusRemoved: string[];
  }> {
    const { s3, rawBucket } = this.deps;
    const removed: string[] = [];
    let checked = 0;
    for await (const [id, objects] of this.uploadsBetween('uploads/', now - windowMs, now - minAgeMs)) {
      checked++;
      if (await this.hasVideo(id)) continue;
      for (const object of objects) await s3.send(new DeleteObjectCommand({ Bucket: rawBucket, Key: object.Key }));
      removed.push(id);
    }
    const tusRemoved: string[] = [];
    for await (const [id, objects] of this.uploadsBetween('tus/', now - windowMs, now - minAgeMs)) {
      checked++;
      const source = `tus/${id}`;
      const hasVideo = await this.hasVideo(id);
      // A finished upload is its video's source: only the store's bookkeeping goes. An abandoned one goes whole.
      const doomed = objects.map((o) => o.Key!).filter((key) => !hasVideo || key !== source);
      if (doomed.length === 0) continue;
      if (!hasVideo) await this.abortTusUpload(source);
      await s3.send(new DeleteObjectsCommand({ Bucket: rawBucket, Delete: { Objects: doomed.map((Key) => ({ Key })) } }));
      tusRemoved.push(id);
    }
    if (removed.length > 0)
      this.deps.logger.warn({ removed: removed.length, ids: removed.slice(0, 20) }, 'deleted raw uploads that no video points at');
    if (tusRemoved.length > 0)
      this.deps.logger.info({ removed: tusRemoved.length, ids: tusRemoved.slice(0, 20) }, 'deleted the bookkeeping of expired tus uploads');
    return { checked, removed, tusRemoved };
  }

  /**
   * The uploads under `prefix` (`<prefix><ULID>`, and for tus `<prefix><ULID>.info` and the like) started
   * between `oldest` and `newest`, with their objects, in key order (so in time order).
   */
  private async *uploadsBetween(prefix: string, oldest: number, newest: number): AsyncGenerator<[string, _Object[]]> {
    const { s3, rawBucket } = this.deps;
    let ContinuationToken: string | undefined;
    const StartAfter = `${prefix}${encodeTime(Math.max(0, oldest), 10)}`;
    let current: [string, _Object[]] | undefined;
    pages: do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: rawBucket, Prefix: prefix, StartAfter, ContinuationToken }));
      for (const object of page.Contents ?? []) {
        const id = object.Key!.slice(prefix.length, prefix.length + 26);
        if (!isVideoId(id)) continue;
        if (decodeTime(id) > newest) break pages;
        if (current?.[0] === id) {
          current[1].push(object);
          continue;
        }
        if (current) yield current;
        current = [id, [object]];
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    if (current) yield current;
  }

  /** Whether the id has a status document (remembered once seen, so later sweeps skip the read). */
  private async hasVideo(id: string): Promise<boolean> {
    if (this.known.has(id)) return true;
    if (!(await this.deps.store.get(id))) return false;
    this.remember(id);
    return true;
  }

  /** Aborts the multipart upload an unfinished tus upload holds (its id is in the `.info`'s metadata). */
  private async abortTusUpload(key: string): Promise<void> {
    const { s3, rawBucket } = this.deps;
    const uploadId = await s3
      .send(new HeadObjectCommand({ Bucket: rawBucket, Key: `${key}.info` }))
      .then((head) => head.Metadata?.['upload-id'])
      .catch(() => undefined);
    if (!uploadId) return;
    await s3.send(new AbortMultipartUploadCommand({ Bucket: rawBucket, Key: key, UploadId: uploadId })).catch((err: unknown) => {
      if (!/NoSuchUpload|NotFound/.test((err as { name?: string }).name ?? '')) throw err;
    });
  }

  /** Sweeps now and then every `everyMs`, in the background (never keeps the process alive); returns a stop function. */
  start(everyMs = ORPHAN_SWEEP_EVERY_MS): () => void {
    const run = () =>
      void this.sweep().catch((err: unknown) => this.deps.logger.warn({ err }, 'orphaned upload sweep failed; the next one retries'));
    const first = setTimeout(run, 60_000).unref();
    const timer = setInterval(run, everyMs).unref();
    return () => {
      clearTimeout(first);
      clearInterval(timer);
    };
  }

  private remember(id: string): void {
    this.known.add(id);
    if (this.known.size > REMEMBERED) this.known.delete(this.known.values().next().value!);
  }
}
