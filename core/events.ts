import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { PRIORITY_TIERS } from './resources.ts';
import { DEFAULT_TENANT } from './tenants.ts';

/**
 * CloudEvents 1.0 (JSON) published as the SNS message body; the SNS message
 * attribute `type` repeats the event type so subscribers can use filter
 * policies. The tenant the event belongs to is the CloudEvents extension
 * attribute `tenant` and the SNS message attribute `tenant` (an event stored
 * before tenants existed has none and is `default`'s). Ids are stable per fact (`video.ready:<videoId>`), so a retried
 * publish is recognisable and subscribers can drop duplicates.
 */
export const EVENT_TYPES = [
  'video.queued',
  'video.processing',
  'video.progress',
  'video.playable',
  'video.ready',
  'video.failed',
  'live.started',
  'live.ended',
  'live.failed',
  'webhook.disabled',
  'video.deleted',
  'video.captions.added',
  'video.captions.removed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const priority = z.enum(PRIORITY_TIERS);
/** Set on the video events of a live recording (uploaded with `channelId`), so a channel's listeners see them. */
const channelId = z.string().optional();

const outputSchema = z.object({
  key: z.string(),
  contentType: z.string(),
  bytes: z.number().int().nonnegative(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  duration: z.number().nonnegative().optional(),
});

const captionSchema = z.object({
  id: z.string(),
  language: z.string().optional(),
  label: z.string(),
  source: z.enum(['embedded', 'uploaded']),
  cues: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});

export const eventDataSchemas = {
  'video.queued': z.object({
    videoId: z.string(),
    priority,
    channelId,
    /** The live session a recording comes from (queued by the live ingest). */
    sessionId: z.string().optional(),
    title: z.string().optional(),
    sourceBytes: z.number().int().nonnegative(),
  }),
  'video.processing': z.object({ videoId: z.string(), priority, channelId, attempt: z.number().int().positive() }),
  /** The transcode's progress, at most every 2 s while ffmpeg runs (for live displays: the realtime streams, opt-in webhooks). */
  'video.progress': z.object({
    videoId: z.string(),
    priority,
    channelId,
    attempt: z.number().int().positive(),
    percent: z.number().min(0).max(100),
  }),
  /** The HLS presentation plays while the rest encodes: `hls.url` is its master playlist (published once per video). */
  'video.playable': z.object({
    videoId: z.string(),
    priority,
    channelId,
    hls: z.object({ url: z.string() }),
    playableAt: z.string(),
  }),
  'video.ready': z.object({
    videoId: z.string(),
    priority,
    channelId,
    source: z.object({ duration: z.number().nonnegative(), width: z.number().int(), height: z.number().int() }),
    outputs: z.record(z.string(), outputSchema),
    skipped: z.array(z.object({ name: z.string(), reason: z.string() })),
    /** What the user should know about the outputs (audio dropped, HDR kept as is …): the status's `notes`. */
    notes: z.array(z.string()).optional(),
  }),
  'video.failed': z.object({
    videoId: z.string(),
    priority,
    channelId,
    code: z.string(),
    reason: z.string(),
    attempts: z.number().int().nonnegative(),
  }),
  /** DELETE /v1/videos/:id removed the video: its source, outputs and status document are gone. */
  'video.deleted': z.object({ videoId: z.string(), priority, channelId }),
  /** A caption track was uploaded to a ready video (POST /v1/videos/:id/captions); the HLS master lists it. */
  'video.captions.added': z.object({ videoId: z.string(), priority, channelId, caption: captionSchema }),
  /** A caption track was removed (DELETE /v1/videos/:id/captions/:captionId); the HLS master no longer lists it. */
  'video.captions.removed': z.object({ videoId: z.string(), priority, channelId, captionId: z.string() }),
  'live.started': z.object({ channelId: z.string(), sessionId: z.string(), title: z.string().optional() }),
  'live.ended': z.object({ channelId: z.string(), sessionId: z.string() }),
  /**
   * The ingest refused a stream it had accepted the key of (unsupported codec, size or frame rate, no keyframe, too
   * many bits) and disconnected the encoder. `sessionId` when a session had started; `attemptId` names the attempt.
   */
  'live.failed': z.object({
    channelId: z.string(),
    attemptId: z.string(),
    sessionId: z.string().optional(),
    code: z.string(),
    reason: z.string(),
  }),
  /** An endpoint whose every delivery failed for REELAY_WEBHOOK_DISABLE_AFTER_DAYS was disabled (PATCH enabled:true revives it). */
  'webhook.disabled': z.object({ webhookId: z.string(), url: z.string(), reason: z.string(), failingSince: z.string() }),
} satisfies Record<EventType, z.ZodType>;

export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

export interface ReelayEvent<T extends EventType = EventType> {
  specversion: '1.0';
  id: string;
  source: string;
  type: T;
  time: string;
  subject: string;
  datacontenttype: 'application/json';
  /** CloudEvents extension attribute: the tenant the event belongs to. */
  tenant: string;
  data: EventData<T>;
}

const envelopeSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.enum(EVENT_TYPES),
  time: z.string(),
  subject: z.string(),
  datacontenttype: z.literal('application/json'),
  tenant: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/)
    .default(DEFAULT_TENANT),
  data: z.unknown(),
});

export function makeEvent<T extends EventType>(
  type: T,
  data: EventData<T>,
  { id, source, subject, tenant, time = new Date() }: { id: string; source: string; subject: string; tenant: string; time?: Date },
): ReelayEvent<T> {
  const event: ReelayEvent<T> = {
    specversion: '1.0',
    id,
    source,
    type,
    time: time.toISOString(),
    subject,
    datacontenttype: 'application/json',
    tenant,
    data,
  };
  return parseEvent(event) as ReelayEvent<T>;
}

/** Validates an event (one we publish or one we received); throws a ZodError when it does not match. */
export function parseEvent(value: unknown): ReelayEvent {
  const envelope = envelopeSchema.parse(value);
  const data = eventDataSchemas[envelope.type].parse(envelope.data);
  return { ...envelope, data } as ReelayEvent;
}

/**
 * Unwraps one SQS message body from a subscriber queue: either the SNS
 * notification envelope (`{"Type":"Notification","Message":…}`) or, with raw
 * message delivery, the event itself.
 */
export function eventFromSqsBody(body: string): ReelayEvent {
  const outer = JSON.parse(body) as Record<string, unknown>;
  const inner = outer.Type === 'Notification' && typeof outer.Message === 'string' ? JSON.parse(outer.Message) : outer;
  return parseEvent(inner);
}

export interface EventTopics {
  videoTopicArn: string;
  liveTopicArn: string;
}

export class EventPublisher {
  private readonly sns: SNSClient;
  private readonly topics: EventTopics;
  constructor(sns: SNSClient, topics: EventTopics) {
    this.sns = sns;
    this.topics = topics;
  }

  /** Validates the event again (whoever built it) before it leaves: nothing malformed reaches a subscriber. */
  async publish(event: ReelayEvent): Promise<void> {
    parseEvent(event);
    const topicArn = event.type.startsWith('live.') ? this.topics.liveTopicArn : this.topics.videoTopicArn;
    await this.sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: JSON.stringify(event),
        MessageAttributes: {
          type: { DataType: 'String', StringValue: event.type },
          subject: { DataType: 'String', StringValue: event.subject },
          tenant: { DataType: 'String', StringValue: event.tenant },
        },
      }),
    );
  }
}
