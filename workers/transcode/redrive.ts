import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { JOB_ERRORS } from '../../core/job-errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { StatusStore } from '../../core/status-store.ts';
import { parseJob, sendJob } from '../../core/job-queue.ts';

/** The only failure code retrying can cure: every other code comes from a PermanentJobError (bad input). */
export const TRANSIENT_FAILURE_CODE = JOB_ERRORS.ATTEMPTS_EXHAUSTED.code;

export interface RedriveFilter {
  /** Only videos that failed with one of these codes. */
  codes?: readonly string[];
  /** Only these videos. */
  videoIds?: readonly string[];
  /** Also videos whose failure is permanent (retrying cannot help unless the code changed). */
  includePermanent?: boolean;
  /** Decide and report, move nothing. */
  dryRun?: boolean;
}

export type SkipReason = 'permanent' | 'code' | 'video' | 'not_a_job' | 'video_gone' | 'not_failed' | 'duplicate';

export interface Skipped {
  messageId: string;
  videoId?: string;
  code?: string;
  reason: SkipReason;
}

export interface RedriveResult {
  /** Messages in the DLQ when the redrive started: the only ones it handles. */
  snapshot: number;
  /** Videos moved back to their queue (with --dry-run: that would have been). */
  moved: string[];
  /** Messages left in the DLQ, and why. */
  skipped: Skipped[];
  /** Messages that reached the DLQ after the start (e.g. a redriven video failing again): left alone. */
  arrivedLater: number;
}

/** How long a received message stays hidden while the redrive runs; every one it keeps is released at the end. */
const HOLD_SECONDS = 120;

/**
 * Moves the jobs that were in a tier's DLQ when it started back to its queue,
 * once each, and gives each video a fresh start (`queued`, attempts 0, the old
 * error kept as `lastError`). It ends when it has seen that many messages (or
 * the DLQ answers empty twice): a job that fails again while it runs comes
 * back as a new message, sent after the start, and is left for the next run.
 * Permanent failures stay unless `includePermanent`. SQS's
 * StartMessageMoveTask would move the messages but cannot reset each video's
 * status or filter, and a worker skips a video that is already `failed`.
 */
export async function redriveDlq({
  sqs,
  store,
  dlqUrl,
  queueUrl,
  logger,
  filter = {},
}: {
  sqs: SQSClient;
  store: StatusStore;
  dlqUrl: string;
  queueUrl: string;
  logger: Logger;
  filter?: RedriveFilter;
}): Promise<RedriveResult> {
  const startedAt = Date.now();
  // In flight counts too: messages an earlier run (or a human) just released may be hidden for a second.
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: dlqUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const snapshot = Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  const result: RedriveResult = { snapshot, moved: [], skipped: [], arrivedLater: 0 };
  /** Receipt handles of the messages left in the DLQ, by message id: released when the run ends. */
  const held = new Map<string, string>();
  const videosSeen = new Set<string>();
  let handled = 0;
  try {
    // A receive on real SQS samples only some servers, so an empty answer is believed the second time.
    for (let empty = 0; handled < result.snapshot && empty < 2;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: HOLD_SECONDS,
          MessageSystemAttributeNames: ['SentTimestamp'],
          MessageAttributeNames: ['All'],
        }),
      );
      let fresh = 0;
      for (const message of Messages) {
        const id = message.MessageId ?? '';
        if (held.has(id)) {
          // Seen before and reappeared after HOLD_SECONDS: keep the new handle, decide nothing twice.
          held.set(id, message.ReceiptHandle ?? '');
          continue;
        }
        if (Number(message.Attributes?.SentTimestamp ?? 0) > startedAt) {
          held.set(id, message.ReceiptHandle ?? '');
          result.arrivedLater++;
          continue;
        }
        fresh++;
        handled++;
        const skip = await handle(message);
        if (skip) {
          held.set(id, message.ReceiptHandle ?? '');
          result.skipped.push({ messageId: id, ...skip });
          logger.info({ messageId: id, ...skip }, `not redriven: ${describeSkip(skip.reason)}`);
        }
      }
      empty = fresh === 0 ? empty + 1 : 0;
    }
  } finally {
    // Back to visible for the next run or a human (1 s, not 0: fauxqs with persistence loses a message set to 0).
    for (const receiptHandle of held.values()) {
      await sqs
        .send(new ChangeMessageVisibilityCommand({ QueueUrl: dlqUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: 1 }))
        .catch(() => {});
    }
  }
  return result;

  async function handle(message: Message): Promise<Omit<Skipped, 'messageId'> | undefined> {
    const job = parseJob(message.Body);
    if (!job) return { reason: 'not_a_job' };
    const { videoId } = job;
    if (videosSeen.has(videoId)) return { videoId, reason: 'duplicate' };
    videosSeen.add(videoId);
    const current = await store.get(videoId);
    if (!current) return { videoId, reason: 'video_gone' };
    const code = current.error?.code ?? message.MessageAttributes?.code?.StringValue;
    if (current.status !== 'failed') return { videoId, code, reason: 'not_failed' };
    if (filter.videoIds && !filter.videoIds.includes(videoId)) return { videoId, code, reason: 'video' };
    if (filter.codes && !(code && filter.codes.includes(code))) return { videoId, code, reason: 'code' };
    if (code !== TRANSIENT_FAILURE_CODE && !filter.includePermanent) return { videoId, code, reason: 'permanent' };
    if (filter.dryRun) {
      result.moved.push(videoId);
      held.set(message.MessageId ?? '', message.ReceiptHandle ?? '');
      logger.info({ videoId, code }, 'would be redriven (dry run)');
      return undefined;
    }
    // Only a failed video is given a fresh start: one that moved on meanwhile is never reopened.
    const redriven = await store.transition(videoId, 'redrive', (doc) => ({
      attempts: 0,
      progress: undefined,
      error: undefined,
      finishedAt: undefined,
      startedAt: undefined,
      queuedAt: new Date().toISOString(),
      ...(doc.error ? { lastError: doc.error } : {}),
    }));
    if (!redriven) return { videoId, code, reason: 'not_failed' };
    result.moved.push(videoId);
    await sendJob(sqs, queueUrl, { ...job, enqueuedAt: new Date().toISOString() });
    await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
    logger.info({ videoId, code }, 'job redriven');
    return undefined;
  }
}

export function describeSkip(reason: SkipReason): string {
  switch (reason) {
    case 'permanent':
      return 'permanent failure, retrying cannot help (--include-permanent moves it anyway)';
    case 'code':
      return 'failure code not in --code';
    case 'video':
      return 'video not in --video';
    case 'not_a_job':
      return 'not a reelay transcode job';
    case 'video_gone':
      return 'its video no longer exists';
    case 'not_failed':
      return 'its video is not failed (a stale copy)';
    case 'duplicate':
      return 'a second message for a video already handled in this run';
  }
}
