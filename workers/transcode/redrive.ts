import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../core/logger.ts';
import type { StatusStore } from '../../core/status-store.ts';
import { parseTranscodeJob } from '../../core/transcode-job.ts';

export interface RedriveResult {
  moved: string[];
  /** Messages left in the DLQ: not a reelay job, the video no longer exists, or it is not failed. */
  skipped: number;
}

/**
 * Moves every job in a tier's DLQ back to its queue and gives its video a
 * fresh start (`queued`, attempts 0, the old error kept as `lastError`).
 * SQS's StartMessageMoveTask would move the messages but cannot reset each
 * video's status, and a worker skips a video that is already `failed`.
 */
export async function redriveDlq({
  sqs,
  store,
  dlqUrl,
  queueUrl,
  logger,
}: {
  sqs: SQSClient;
  store: StatusStore;
  dlqUrl: string;
  queueUrl: string;
  logger: Logger;
}): Promise<RedriveResult> {
  const result: RedriveResult = { moved: [], skipped: 0 };
  // A short receive on real SQS samples only some servers: stop after two empty 1-second long polls in a row.
  for (let empty = 0; empty < 2; ) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }),
    );
    if (Messages.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    for (const message of Messages) {
      const job = parseTranscodeJob(message.Body);
      const current = job ? await store.get(job.videoId) : undefined;
      if (!job || !current) {
        // Left in the DLQ (it reappears after the visibility timeout) for a human to look at.
        logger.warn({ messageId: message.MessageId }, 'not redriven: not a reelay job, or its video is gone');
        result.skipped++;
        continue;
      }
      // Only a failed video is given a fresh start: a ready one is never reopened.
      const redriven = await store.transition(job.videoId, 'redrive', (doc) => ({
        attempts: 0,
        progress: undefined,
        error: undefined,
        finishedAt: undefined,
        startedAt: undefined,
        queuedAt: new Date().toISOString(),
        ...(doc.error ? { lastError: doc.error } : {}),
      }));
      if (!redriven) {
        logger.warn({ videoId: job.videoId, status: current.status }, 'not redriven: the video is not failed');
        result.skipped++;
        continue;
      }
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ ...job, enqueuedAt: new Date().toISOString() }) }));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
      result.moved.push(job.videoId);
      logger.info({ videoId: job.videoId }, 'job redriven');
    }
  }
  return result;
}
