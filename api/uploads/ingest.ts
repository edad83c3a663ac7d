import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { cleanFilename } from '../../core/client-text.ts';
import { HttpProblem } from '../../core/errors.ts';
import { MIN_PART_BYTES, describeS3Failure } from '../../core/s3-multipart.ts';
import type { EventPublisher } from '../../core/events.ts';
import { newVideoId } from '../../core/ids.ts';
import type { Logger } from '../../core/logger.ts';
import type { PendingJobs } from '../../core/pending-jobs.ts';
import type { PriorityTier } from '../../core/resources.ts';
import type { StatusStore } from '../../core/status-store.ts';
import { queueVideo } from '../../core/queue-video.ts';
import type { VideoStatus } from '../../core/video-status.ts';
import { mediaType } from './media-type.ts';
import { EVENT_SOURCE } from '../event-source.ts';
import type { ApiMetrics } from '../middleware/metrics.ts';
import type { ByteLimiter, FileInfo } from './upload-stream.ts';

/**
 * Multipart part size, S3's minimum. An upload holds about partSize × (queueSize + 2)
 * (the parts in flight, the one being gathered from the body's chunks and its
 * concatenated copy), plus finished parts until the next full GC: smaller parts keep
 * the API's RSS lower (1 GiB upload: ~87 MiB peak growth vs ~114 MiB with 8 MiB parts)
 * at the same throughput. 10,000 parts at most: objects up to ~48.8 GiB.
 */
export const UPLOAD_PART_BYTES = MIN_PART_BYTES;
/** Parts uploaded at once: 2 instead of 4 saves memory too but costs ~6 % throughput against the emulator. */
export const UPLOAD_QUEUE_SIZE = 4;

export interface IngestDeps {
  s3: S3Client;
  /** Markers of jobs not yet on their queue (the sweep sends them if sending failed unrecorded). */
  pendingJobs: PendingJobs;
  sqs: SQSClient;
  store: StatusStore;
  events: EventPublisher;
  rawBucket: string;
  queueUrls: Record<PriorityTier, string>;
  /** Upload bytes, durations and uploads in flight; none when absent. */
  metrics?: ApiMetrics;
  logger: Logger;
}

export interface StoredSource {
  id: string;
  key: string;
  bytes: number;
  info: FileInfo;
}

/**
 * The API side of the pipeline: stream an upload into the raw bucket (S3
 * multipart via lib-storage, aborted on failure so no parts are left), then
 * record the video, queue the job on its tier and publish `video.queued`.
 */
export class Ingest {
  private readonly deps: IngestDeps;
  constructor(deps: IngestDeps) {
    this.deps = deps;
  }

  /** Streams one file into the raw bucket under a new video id. */
  async store(file: ByteLimiter, info: FileInfo): Promise<StoredSource> {
    return this.deps.metrics ? this.deps.metrics.timeUpload(() => this.storeUntimed(file, info)) : this.storeUntimed(file, info);
  }

  private async storeUntimed(file: ByteLimiter, info: FileInfo): Promise<StoredSource> {
    const id = newVideoId();
    const key = `uploads/${id}`;
    const upload = new Upload({
      client: this.deps.s3,
      params: {
        Bucket: this.deps.rawBucket,
        Key: key,
        Body: file,
        ContentType: mediaType(info.contentType) ?? 'application/octet-stream',
        Metadata: {
          'video-id': id,
          ...(info.filename
            ? {
                filename: encodeURIComponent(info.filename)
                  .slice(0, 1024)
                  .replace(/%[0-9A-F]?$/, ''),
              }
            : {}),
        },
      },
      partSize: UPLOAD_PART_BYTES,
      queueSize: UPLOAD_QUEUE_SIZE,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      file.destroy();
      await upload.abort().catch(() => undefined);
      if (err instanceof HttpProblem) throw err;
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof HttpProblem) throw cause;
      if (file.errored instanceof HttpProblem) throw file.errored;
      // The request body failed (the client went away, or stalled past the idle timeout): its fault, not ours.
      if (file.errored) throw new HttpProblem(400, 'Bad Request', 'the upload stopped before the whole file arrived', { cause: err });
      throw new HttpProblem(503, 'Service Unavailable', `storing the upload failed: ${describeS3Failure(err)}`, { cause: err });
    }
    return { id, key, bytes: file.bytes, info };
  }

  /** Removes a stored upload that will not be processed (empty, or the request turned out invalid). */
  async discard(source: StoredSource): Promise<void> {
    await this.deps.s3.send(new DeleteObjectCommand({ Bucket: this.deps.rawBucket, Key: source.key })).catch((err: unknown) => {
      this.deps.logger.warn({ err, key: source.key }, 'could not delete a discarded upload');
    });
  }

  /** Records the video as queued, sends the job to its tier and announces it (core/queue-video.ts, shared with the live ingest). */
  async enqueue(
    source: StoredSource,
    { tenant, priority, title, channelId }: { tenant: string; priority: PriorityTier; title?: string; channelId?: string },
  ): Promise<VideoStatus> {
    // Every way in (multipart, direct, tus) keeps the name by the client-text rule.
    const filename = source.info.filename ? cleanFilename(source.info.filename) : undefined;
    return queueVideo(
      { ...this.deps, eventSource: EVENT_SOURCE },
      source.id,
      { key: source.key, bytes: source.bytes, contentType: source.info.contentType, ...(filename ? { filename } : {}) },
      { tenant, priority, ...(title ? { title } : {}), ...(channelId ? { channelId } : {}) },
    );
  }
}
