import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
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
  }> {
    const { s3, rawBucket, store } = this.deps;
    const newest = now - minAgeMs;
    const removed: string[] = [];
    let checked = 0;
    let ContinuationToken: string | undefined;
    const StartAfter = `uploads/${encodeTime(Math.max(0, now - windowMs), 10)}`;
    pages: do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: rawBucket, Prefix: 'uploads/', StartAfter, ContinuationToken }));
      for (const object of page.Contents ?? []) {
        const id = object.Key!.slice('uploads/'.length);
        if (!isVideoId(id)) continue;
        if (decodeTime(id) > newest) break pages;
        if (this.known.has(id)) continue;
        checked++;
        if (await store.get(id)) {
          this.remember(id);
          continue;
        }
        await s3.send(new DeleteObjectCommand({ Bucket: rawBucket, Key: object.Key }));
        removed.push(id);
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    if (removed.length > 0)
      this.deps.logger.warn({ removed: removed.length, ids: removed.slice(0, 20) }, 'deleted raw uploads that no video points at');
    return { checked, removed };
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
