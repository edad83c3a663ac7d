import type { SQSClient } from '@aws-sdk/client-sqs';
import { jobSchema, sendJob, type Job } from './job-queue.ts';
import { JsonDocuments } from './json-documents.ts';
import type { Logger } from './logger.ts';
import type { PriorityTier } from './resources.ts';
import type { StatusStore } from './status-store.ts';

/** A queued video older than this whose job may never have been sent is sent its job again. */
export const PENDING_JOB_MIN_AGE_MS = 2 * 60_000;
export const PENDING_JOB_SWEEP_EVERY_MS = 60_000;

interface PendingJob {
  job: Job;
  markedAt: string;
}

export interface PendingJobsDeps {
  s3: ConstructorParameters<typeof JsonDocuments>[0];
  sqs: SQSClient;
  mediaBucket: string;
  queueUrls: Record<PriorityTier, string>;
  store: StatusStore;
  logger: Logger;
}

/**
 * "This video's job may not be on its queue yet": a marker
 * (`pending-jobs/<videoId>.json` in the media bucket) written before the job
 * is sent and removed once it is. When sending fails and the compensating
 * status write fails too, the video stays `queued` with its marker, and the
 * sweep sends the job again once the marker is older than `minAgeMs`. Sending
 * twice is harmless: the status machine makes a second job for the same video
 * a no-op (or, at worst, a duplicate transcode whose second finish is refused).
 */
export class PendingJobs {
  private readonly deps: PendingJobsDeps;
  private readonly docs: JsonDocuments<PendingJob>;
  constructor(deps: PendingJobsDeps) {
    this.deps = deps;
    this.docs = new JsonDocuments<PendingJob>(deps.s3, deps.mediaBucket, 'pending-jobs');
  }

  async mark(job: Job, now = new Date()): Promise<void> {
    await this.docs.put(job.videoId, { job, markedAt: now.toISOString() });
  }

  /** The job is on its queue. A marker left behind only costs a harmless second job. */
  async clear(videoId: string): Promise<void> {
    await this.docs
      .delete(videoId)
      .catch((err: unknown) => this.deps.logger.warn({ err, videoId }, 'could not clear a pending-job marker'));
  }

  /** Sends the job of every video still `queued`, never attempted, whose marker is older than `minAgeMs`. */
  async sweep({ minAgeMs = PENDING_JOB_MIN_AGE_MS, now = Date.now() } = {}): Promise<{ requeued: string[]; cleared: string[] }> {
    const requeued: string[] = [];
    const cleared: string[] = [];
    for (const marker of await this.docs.list()) {
      if (now - Date.parse(marker.markedAt) < minAgeMs) continue;
      // Read as a queue message is: a marker written before jobs had a kind holds a transcode job.
      const job = jobSchema.parse(marker.job);
      const doc = await this.deps.store.get(job.videoId);
      if (doc?.status === 'queued' && doc.attempts === 0) {
        await sendJob(this.deps.sqs, this.deps.queueUrls[job.priority], job);
        requeued.push(job.videoId);
      } else {
        // No video (its recording failed), or a worker has it: the job was on its queue after all.
        cleared.push(job.videoId);
      }
      await this.docs.delete(job.videoId);
    }
    if (requeued.length > 0)
      this.deps.logger.warn(
        { requeued: requeued.length, ids: requeued.slice(0, 20) },
        'sent the jobs of queued videos whose job was never sent',
      );
    return { requeued, cleared };
  }

  /** Sweeps every `everyMs` in the background (never keeps the process alive); returns a stop function. */
  start(everyMs = PENDING_JOB_SWEEP_EVERY_MS): () => void {
    const timer = setInterval(
      () => void this.sweep().catch((err: unknown) => this.deps.logger.warn({ err }, 'pending-job sweep failed; the next one retries')),
      everyMs,
    ).unref();
    return () => clearInterval(timer);
  }
}
