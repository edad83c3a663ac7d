import { EVENT_TYPES } from '../core/events.ts';
import { PRIORITY_TIERS, redriveMaxReceiveCount, resourceNames } from '../core/resources.ts';

/**
 * reelay's AWS resources as data: names and settings, derived from the
 * provisioning settings. The one source of truth that `provision()` (the
 * SDK calls, idempotent, for the local stack and plain AWS accounts) and
 * the CDK app (`infra/cdk/`) both build from.
 */
export interface SpecSettings {
  prefix: string;
  /** Visibility timeout of the tier queues, seconds. */
  visibilityTimeoutSeconds: number;
  /** The worker's attempt limit; SQS redrive is a backstop a few receives beyond it. */
  maxAttempts: number;
}

export interface QueueSpec {
  name: string;
  visibilityTimeoutSeconds?: number;
  /** Absent: SQS's default (4 days). */
  retentionSeconds?: number;
  /** Messages received this many times move to `dlq`. */
  redrive?: { dlq: string; maxReceiveCount: number };
}

export interface SubscriberSpec {
  queue: QueueSpec;
  dlq: QueueSpec;
  topics: string[];
  /** SNS filter policy on the `type` message attribute. */
  eventTypes: string[];
}

export interface ResourceSpec {
  /** Private, encrypted; incomplete multipart uploads aborted after `abortIncompleteUploadsAfterDays`. */
  buckets: { name: string; abortIncompleteUploadsAfterDays: number }[];
  /** The tier queues and the webhook deliveries queue, each after its DLQ. */
  queues: QueueSpec[];
  topics: string[];
  subscribers: SubscriberSpec[];
  /** Every dead-letter queue, for alarms. */
  dlqs: string[];
}

export const FOURTEEN_DAYS_SECONDS = 14 * 24 * 3600;

export function resourceSpec(settings: SpecSettings): ResourceSpec {
  const names = resourceNames(settings.prefix);
  const retentionSeconds = FOURTEEN_DAYS_SECONDS;
  const queues: QueueSpec[] = [];
  for (const tier of PRIORITY_TIERS) {
    queues.push({ name: names.tierDlq[tier], retentionSeconds });
    queues.push({
      name: names.tierQueue[tier],
      visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
      retentionSeconds,
      redrive: { dlq: names.tierDlq[tier], maxReceiveCount: redriveMaxReceiveCount(settings.maxAttempts) },
    });
  }
  // One message per (event, endpoint). The dispatcher dead-letters after its own attempt count;
  // SQS's redrive is a backstop beyond the largest REELAY_WEBHOOK_MAX_ATTEMPTS (25).
  queues.push({ name: names.webhookDeliveriesDlq, retentionSeconds });
  queues.push({
    name: names.webhookDeliveriesQueue,
    visibilityTimeoutSeconds: 90,
    retentionSeconds,
    redrive: { dlq: names.webhookDeliveriesDlq, maxReceiveCount: 30 },
  });

  const topics = [names.videoTopic, names.liveTopic];
  // Long-lived subscribers, each with its own queue; the filter keeps anything but reelay events out.
  // The notifier logs every event: it leaves out the frequent video.progress, which webhooks may opt into.
  const subscriber = (name: string, eventTypes: string[]): SubscriberSpec => ({
    dlq: { name: `${name}-dlq`, retentionSeconds },
    queue: { name, visibilityTimeoutSeconds: 30, redrive: { dlq: `${name}-dlq`, maxReceiveCount: 5 } },
    topics,
    eventTypes,
  });
  const subscribers = [
    subscriber(
      names.notifierQueue,
      EVENT_TYPES.filter((type) => type !== 'video.progress'),
    ),
    subscriber(names.webhooksQueue, [...EVENT_TYPES]),
  ];
  return {
    buckets: [names.rawBucket, names.mediaBucket].map((name) => ({ name, abortIncompleteUploadsAfterDays: 1 })),
    queues,
    topics,
    subscribers,
    dlqs: [...queues.filter((q) => q.name.endsWith('-dlq')).map((q) => q.name), ...subscribers.map((s) => s.dlq.name)],
  };
}
