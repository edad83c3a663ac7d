import { SendMessageCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { isVideoId } from './ids.ts';
import { PRIORITY_TIERS } from './resources.ts';

/**
 * The job-queue contract: what a message on a tier queue (`reelay-transcode-{high,normal,low}`) and its
 * dead-letter queue looks like, and the only code that writes (`sendJob`, `jobMessage`) or reads
 * (`parseJob`) one. The body is JSON; the status document holds everything else about the video.
 */

// A ULID, checked before it becomes part of an S3 key or a temp path.
const videoId = z.string().refine(isVideoId, 'videoId must be a ULID');

/**
 * Today's only kind: transcode a whole upload in one ffmpeg pass. `kind` defaults to `transcode` because
 * the messages written before it existed carry none (they may still wait in a queue or a DLQ).
 */
const transcodeJobSchema = z.object({
  kind: z.literal('transcode').default('transcode'),
  videoId,
  priority: z.enum(PRIORITY_TIERS),
  sourceKey: z.string().min(1),
  enqueuedAt: z.string(),
});

/**
 * Every kind of job, told apart by `kind`. The chunk and stitch jobs of DESIGN.md ("Next") join as
 * further members (`z.object({ kind: z.literal('chunk'), videoId, priority, index, … })`) on the same
 * tier queues; a worker that does not know a kind yet finds the message malformed and dead-letters it.
 */
export const jobSchema = z.discriminatedUnion('kind', [transcodeJobSchema]);
export type Job = z.infer<typeof jobSchema>;
export type JobKind = Job['kind'];
export type TranscodeJob = Extract<Job, { kind: 'transcode' }>;

/** A transcode job for a stored upload, queued now. */
export function transcodeJob(fields: Omit<TranscodeJob, 'kind' | 'enqueuedAt'> & { enqueuedAt?: string }): TranscodeJob {
  return { kind: 'transcode', ...fields, enqueuedAt: fields.enqueuedAt ?? new Date().toISOString() };
}

/** The job in an SQS message body, or undefined when the body is not a reelay job. */
export function parseJob(body: string | undefined): Job | undefined {
  try {
    const parsed = jobSchema.safeParse(JSON.parse(body ?? ''));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The message for a job: its JSON body, and attributes that always name the video (`videoId`, so a
 * queue's messages can be told apart without parsing bodies) plus any `extra` ones (a DLQ's `code` and
 * `reason`). For SendMessage and SendMessageBatch entries alike.
 */
export function jobMessage(
  job: Job,
  extra: Record<string, string> = {},
): { MessageBody: string; MessageAttributes: Record<string, MessageAttributeValue> } {
  return { MessageBody: JSON.stringify(job), MessageAttributes: stringAttributes({ ...extra, videoId: job.videoId }) };
}

/** Sends a job to a queue: its tier's queue, or a DLQ with `attributes` saying why. */
export async function sendJob(sqs: SQSClient, queueUrl: string, job: Job, attributes: Record<string, string> = {}): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, ...jobMessage(job, attributes) }));
}

/** Dead-letters a message that is no job (kept as it came, for a human to read) with `attributes` saying why. */
export async function sendUnreadable(sqs: SQSClient, dlqUrl: string, body: string, attributes: Record<string, string>): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: body, MessageAttributes: stringAttributes(attributes) }));
}

function stringAttributes(values: Record<string, string>): Record<string, MessageAttributeValue> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]));
}
