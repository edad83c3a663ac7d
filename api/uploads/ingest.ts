import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { cleanFilename } from '../../core/client-text.ts';
import { HttpProblem } from '../../core/errors.ts';
import { describeS3Failure } from '../../core/s3-multipart.ts';
import { makeEvent, type EventPublisher } from '../../core/events.ts';
import { newVideoId } from '../../core/ids.ts';
import { jobFailure } from '../../core/job-errors.ts';
import { sendJob, transcodeJob } from '../../core/job-queue.ts';
import type { Logger } from '../../core/logger.ts';
import type { PendingJobs } from '../../core/pending-jobs.ts';
import type { PriorityTier } from '../../core/resources.ts';
import type { StatusStore } from '../../core/status-store.ts';
import { queuedVideo, type VideoStatus } from '../../core/video-status.ts';
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
export const UPLOAD_PART_BYTES = 5 * 1024 * 1024;
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

  /** Records the video as queued, sends the job to its tier and announces it. */
  async enqueue(
    source: StoredSource,
    { tenant, priority, title, channelId }: { tenant: string; priority: PriorityTier; title?: string; channelId?: string },
  ): Promise<VideoStatus> {
    const now = new Date().toISOString();
    const doc = queuedVideo(
      source.id,
      tenant,
      priority,
      { key: source.key, bytes: source.bytes, contentType: source.info.contentType },
      now,
    );
    if (title) doc.title = title;
    if (channelId) doc.channelId = channelId;
    // Every way in (multipart, direct, tus) keeps the name by the client-text rule.
    const filename = source.info.filename ? cleanFilename(source.info.filename) : undefined;
    if (filename) doc.source.filename = filename;
    const job = transcodeJob({ videoId: source.id, priority, sourceKey: source.key, enqueuedAt: now });

    try {
      // Before the video exists: if sending its job fails unrecorded, the pending-job sweep sends it.
      await this.deps.pendingJobs.mark(job);
      await this.deps.store.create(doc);
    } catch (err) {
      // No video points at the file: nothing would ever process or remove it.
      await this.discard(source);
      throw new HttpProblem(503, 'Service Unavailable', `the video could not be recorded: ${(err as Error).message}`, { cause: err });
    }
    try {
      await sendJob(this.deps.sqs, this.deps.queueUrls[priority], job);
    } catch (err) {
      // Not queued: say so in the status instead of leaving a "queued" video no worker will see.
      const message = (err as Error).message;
      const failed = await this.deps.store
        .transition(doc.id, 'fail', () => ({ error: jobFailure('ENQUEUE_FAILED', message) }))
        .catch((writeErr: unknown) => {
          // Neither queued nor marked failed: the video stays queued with its pending-job marker, and the
          // sweep sends the job a few minutes from now. The upload is kept: accepted, a little late.
          this.deps.logger.error(
            { err: writeErr, cause: message, videoId: doc.id },
            'could not queue the job nor record it; the pending-job sweep will send it',
          );
          return undefined;
        });
      if (!failed) return doc;
      await this.deps.pendingJobs.clear(doc.id);
      throw new HttpProblem(503, 'Service Unavailable', `the video was stored but could not be queued: ${message}`, { cause: err });
    }
    await this.deps.pendingJobs.clear(doc.id);
    try {
      const data = {
        videoId: doc.id,
        priority,
        sourceBytes: source.bytes,
        ...(title ? { title } : {}),
        ...(channelId ? { channelId } : {}),
      };
      await this.deps.events.publish(
        makeEvent('video.queued', data, { id: `video.queued:${doc.id}`, source: EVENT_SOURCE, subject: doc.id, tenant }),
      );
    } catch (err) {
      // The job is queued and will run; only the announcement is missing.
      this.deps.logger.error({ err, videoId: doc.id }, 'could not publish video.queued');
    }
    return doc;
  }
}
