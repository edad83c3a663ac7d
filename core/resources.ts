import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ListTopicsCommand, type SNSClient } from '@aws-sdk/client-sns';

/** Priority tiers, highest first. Live recordings → high, shorts → normal, regular uploads → low or normal. */
export const PRIORITY_TIERS = ['high', 'normal', 'low'] as const;
export type PriorityTier = (typeof PRIORITY_TIERS)[number];

export function isPriorityTier(value: unknown): value is PriorityTier {
  return typeof value === 'string' && (PRIORITY_TIERS as readonly string[]).includes(value);
}

/**
 * Receives SQS allows a tier message before its redrive policy moves it to the DLQ: the
 * worker's own attempts plus slack, because a hand-back (a stopping worker, a second long
 * poll's message) counts as a receive too.
 */
export const REDRIVE_SLACK = 5;
export function redriveMaxReceiveCount(maxAttempts: number): number {
  return maxAttempts + REDRIVE_SLACK;
}

/** Every bucket, queue and topic name, derived from one prefix. */
export interface ResourceNames {
  rawBucket: string;
  mediaBucket: string;
  tierQueue: Record<PriorityTier, string>;
  tierDlq: Record<PriorityTier, string>;
  videoTopic: string;
  liveTopic: string;
  notifierQueue: string;
  notifierDlq: string;
  /** The webhook dispatcher's subscriber queue: every event, fanned out into one delivery per endpoint. */
  webhooksQueue: string;
  /** One message per (event, endpoint); retried through its visibility timeout, then moved to the DLQ. */
  webhookDeliveriesQueue: string;
  webhookDeliveriesDlq: string;
  /** Each API process owns `<prefix>-realtime-<instance>` for the SSE gateway. */
  realtimeQueuePrefix: string;
}

export function resourceNames(prefix: string): ResourceNames {
  const perTier = (suffix: string) =>
    Object.fromEntries(PRIORITY_TIERS.map((tier) => [tier, `${prefix}-transcode-${tier}${suffix}`])) as Record<PriorityTier, string>;
  return {
    rawBucket: `${prefix}-raw`,
    mediaBucket: `${prefix}-media`,
    tierQueue: perTier(''),
    tierDlq: perTier('-dlq'),
    videoTopic: `${prefix}-video-events`,
    liveTopic: `${prefix}-live-events`,
    notifierQueue: `${prefix}-notifier`,
    notifierDlq: `${prefix}-notifier-dlq`,
    webhooksQueue: `${prefix}-webhooks`,
    webhookDeliveriesQueue: `${prefix}-webhook-deliveries`,
    webhookDeliveriesDlq: `${prefix}-webhook-deliveries-dlq`,
    realtimeQueuePrefix: `${prefix}-realtime-`,
  };
}

/** Queue URLs and topic ARNs, looked up once at start (they are not derivable on every provider). */
export interface ResolvedResources {
  names: ResourceNames;
  tierQueueUrl: Record<PriorityTier, string>;
  tierDlqUrl: Record<PriorityTier, string>;
  videoTopicArn: string;
  liveTopicArn: string;
}

export async function queueUrl(sqs: SQSClient, name: string): Promise<string> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`queue ${name} has no URL`);
  return QueueUrl;
}

export async function topicArn(sns: SNSClient, name: string): Promise<string> {
  let NextToken: string | undefined;
  do {
    const page = await sns.send(new ListTopicsCommand({ NextToken }));
    const found = page.Topics?.find((t) => t.TopicArn?.endsWith(`:${name}`));
    if (found?.TopicArn) return found.TopicArn;
    NextToken = page.NextToken;
  } while (NextToken);
  throw new Error(`topic ${name} does not exist: run \`npm run provision\` first`);
}

export async function resolveResources(clients: { sqs: SQSClient; sns: SNSClient }, prefix: string): Promise<ResolvedResources> {
  const names = resourceNames(prefix);
  const urls = async (byTier: Record<PriorityTier, string>) =>
    Object.fromEntries(await Promise.all(PRIORITY_TIERS.map(async (t) => [t, await queueUrl(clients.sqs, byTier[t])]))) as Record<
      PriorityTier,
      string
    >;
  try {
    const [tierQueueUrl, tierDlqUrl, videoTopicArn, liveTopicArn] = await Promise.all([
      urls(names.tierQueue),
      urls(names.tierDlq),
      topicArn(clients.sns, names.videoTopic),
      topicArn(clients.sns, names.liveTopic),
    ]);
    return { names, tierQueueUrl, tierDlqUrl, videoTopicArn, liveTopicArn };
  } catch (err) {
    throw new ResourcesMissingError(prefix, err);
  }
}

/** The queues and topics of `prefix` could not be found (not provisioned, or the wrong endpoint or credentials). */
export class ResourcesMissingError extends Error {
  override name = 'ResourcesMissingError';
  constructor(prefix: string, cause: unknown) {
    super(`reelay resources with prefix "${prefix}" are missing (run \`npm run provision\`): ${(cause as Error).message}`, { cause });
  }
}
