import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { HttpProblem } from './errors.ts';
import { makeEvent, type EventPublisher } from './events.ts';
import type { Logger } from './logger.ts';
import type { PendingJobs } from './pending-jobs.ts';
import type { PriorityTier } from './resources.ts';
import type { StatusStore } from './status-store.ts';
import { jobFailure } from './job-errors.ts';
import { sendJob, transcodeJob } from './job-queue.ts';
import { queuedVideo, type SourceInfo, type VideoStatus } from './video-status.ts';

export interface VideoQueueDeps {
  s3: S3Client;
  sqs: SQSClient;
  store: StatusStore;
  /** Markers of jobs not yet on their queue (the sweep sends them if sending failed unrecorded). */
  pendingJobs: PendingJobs;
  events: EventPublisher;
  rawBucket: string;
  queueUrls: Record<PriorityTier, string>;
  logger: Logger;
  /** CloudEvents `source` of `video.queued`. */
  eventSource: string;
}

export interface VideoOrigin {
  tenant: string;
  priority: PriorityTier;
  title?: string;
  /** The live channel the video is a recording of. */
  channelId?: string;
  /** The live session it recorded. */
  sessionId?: string;
}

/**
 * The one way a stored source becomes a video (uploads through the API, live recordings through the ingest):
 * record it as queued, send its job to its tier and announce `video.queued`. A pending-job marker comes first,
 * so a job whose sending fails unrecorded is sent by the sweep. Throws HttpProblem 503 when the video cannot be
 * recorded or queued (the stored source is removed when no video points at it).
 */
export async function queueVideo(
  deps: VideoQueueDeps,
  id: string,
  source: SourceInfo,
  { tenant, priority, title, channelId, sessionId }: VideoOrigin,
): Promise<VideoStatus> {
  const now = new Date().toISOString();
  const doc = queuedVideo(id, tenant, priority, source, now);
  if (title) doc.title = title;
  if (channelId) doc.channelId = channelId;
  if (sessionId) doc.sessionId = sessionId;
  const job = transcodeJob({ videoId: id, priority, sourceKey: source.key, enqueuedAt: now });

  try {
    // Before the video exists: if sending its job fails unrecorded, the pending-job sweep sends it.
    await deps.pendingJobs.mark(job);
    await deps.store.create(doc);
  } catch (err) {
    // No video points at the file: nothing would ever process or remove it.
    await discardSource(deps, source.key);
    throw new HttpProblem(503, 'Service Unavailable', `the video could not be recorded: ${(err as Error).message}`, { cause: err });
  }
  try {
    await sendJob(deps.sqs, deps.queueUrls[priority], job);
  } catch (err) {
    // Not queued: say so in the status instead of leaving a "queued" video no worker will see.
    const message = (err as Error).message;
    const failed = await deps.store
      .transition(doc.id, 'fail', () => ({ error: jobFailure('ENQUEUE_FAILED', message) }))
      .catch((writeErr: unknown) => {
        // Neither queued nor marked failed: the video stays queued with its pending-job marker, and the
        // sweep sends the job a few minutes from now. The source is kept: accepted, a little late.
        deps.logger.error(
          { err: writeErr, cause: message, videoId: doc.id },
          'could not queue the job nor record it; the pending-job sweep will send it',
        );
        return undefined;
      });
    if (!failed) return doc;
    await deps.pendingJobs.clear(doc.id);
    throw new HttpProblem(503, 'Service Unavailable', `the video was stored but could not be queued: ${message}`, { cause: err });
  }
  await deps.pendingJobs.clear(doc.id);
  try {
    const data = {
      videoId: doc.id,
      priority,
      sourceBytes: source.bytes,
      ...(title ? { title } : {}),
      ...(channelId ? { channelId } : {}),
      ...(sessionId ? { sessionId } : {}),
    };
    await deps.events.publish(
      makeEvent('video.queued', data, { id: `video.queued:${doc.id}`, source: deps.eventSource, subject: doc.id, tenant }),
    );
  } catch (err) {
    // The job is queued and will run; only the announcement is missing.
    deps.logger.error({ err, videoId: doc.id }, 'could not publish video.queued');
  }
  return doc;
}

async function discardSource(deps: Pick<VideoQueueDeps, 's3' | 'rawBucket' | 'logger'>, key: string): Promise<void> {
  await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.rawBucket, Key: key })).catch((err: unknown) => {
    deps.logger.warn({ err, key }, 'could not delete a discarded source');
  });
}
