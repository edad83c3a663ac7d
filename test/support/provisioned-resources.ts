import { GetBucketLifecycleConfigurationCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetSubscriptionAttributesCommand, ListSubscriptionsByTopicCommand, type Subscription } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../../core/aws.ts';
import { queueUrl, topicArn } from '../../core/resources.ts';
import type { QueueSpec, ResourceSpec } from '../../infra/resource-spec.ts';

/**
 * One line per fact `infra/resource-spec.ts` asks of the account: a bucket and its lifecycle rule, a queue and
 * each attribute its spec sets, a subscription and its filter policy, a subscriber queue's delivery policy.
 * `describeSpec` says what the spec wants; `describeAccount` reads the same facts back from an endpoint, so a
 * test compares the two lists (sorted, a readable diff when they differ).
 */
export function describeSpec(spec: ResourceSpec): string[] {
  const lines: string[] = [];
  for (const bucket of spec.buckets) lines.push(bucketLine(bucket.name, bucket.abortIncompleteUploadsAfterDays));
  for (const queue of allQueues(spec)) lines.push(...queueLines(queue.name, queue, wantedAttributes(queue)));
  for (const topic of spec.topics) lines.push(`topic ${topic}`);
  for (const subscriber of spec.subscribers) {
    lines.push(deliveryLine(subscriber.queue.name, subscriber.topics));
    for (const topic of subscriber.topics) lines.push(subscriptionLine(subscriber.queue.name, topic, subscriber.eventTypes));
  }
  return lines.sort();
}

export async function describeAccount(clients: Pick<AwsClients, 's3' | 'sqs' | 'sns'>, spec: ResourceSpec): Promise<string[]> {
  const lines: string[] = [];
  for (const bucket of spec.buckets) lines.push(await readBucket(clients, bucket.name));
  for (const queue of allQueues(spec)) lines.push(...(await readQueue(clients, queue)));
  const topicArns = new Map<string, string>();
  for (const topic of spec.topics) {
    const arn = await topicArn(clients.sns, topic).catch(() => undefined);
    if (arn) topicArns.set(topic, arn);
    lines.push(arn ? `topic ${topic}` : `topic ${topic}: missing`);
  }
  for (const subscriber of spec.subscribers) {
    const queue = await queueAttributes(clients, subscriber.queue.name);
    if (!queue) continue; // readQueue has said it is missing
    const policy = JSON.parse(queue.Policy ?? '{}') as { Statement?: { Condition?: { ArnEquals?: Record<string, string[]> } }[] };
    const from = policy.Statement?.[0]?.Condition?.ArnEquals?.['aws:SourceArn'] ?? [];
    lines.push(deliveryLine(subscriber.queue.name, from.map(lastSegment)));
    for (const [topic, arn] of topicArns) {
      for (const sub of await subscriptions(clients, arn, queue.QueueArn!)) {
        const { Attributes = {} } = await clients.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: sub.SubscriptionArn }));
        const filter = Attributes.FilterPolicy ? (JSON.parse(Attributes.FilterPolicy) as { type?: string[] }) : {};
        lines.push(subscriptionLine(subscriber.queue.name, topic, filter.type ?? ['(no filter)']));
      }
    }
  }
  return lines.sort();
}

const lastSegment = (arn: string) => arn.split(':').pop() ?? arn;

function allQueues(spec: ResourceSpec): QueueSpec[] {
  return [...spec.queues, ...spec.subscribers.flatMap((s) => [s.dlq, s.queue])];
}

const bucketLine = (name: string, days: number | string) => `bucket ${name}: incomplete uploads aborted after ${days} day(s)`;
const deliveryLine = (queue: string, topics: string[]) => `queue ${queue}: SNS may deliver from ${[...topics].sort().join(', ')}`;
const subscriptionLine = (queue: string, topic: string, types: string[]) =>
  `subscription ${queue} <- ${topic}: type in ${[...types].sort().join(', ')}`;

function queueLines(name: string, spec: QueueSpec, values: Record<string, string>): string[] {
  return [`queue ${name}`, ...Object.keys(wantedAttributes(spec)).map((key) => `queue ${name}: ${key} ${values[key] ?? '(unset)'}`)];
}

/** The attributes a queue's spec sets, as comparable text (the redrive target by queue name, not ARN). */
function wantedAttributes(queue: QueueSpec): Record<string, string> {
  return {
    ...(queue.visibilityTimeoutSeconds !== undefined ? { VisibilityTimeout: String(queue.visibilityTimeoutSeconds) } : {}),
    ...(queue.retentionSeconds !== undefined ? { MessageRetentionPeriod: String(queue.retentionSeconds) } : {}),
    ...(queue.redrive ? { RedrivePolicy: `to ${queue.redrive.dlq} after ${queue.redrive.maxReceiveCount} receives` } : {}),
  };
}

async function readQueue(clients: Pick<AwsClients, 'sqs'>, queue: QueueSpec): Promise<string[]> {
  const attributes = await queueAttributes(clients, queue.name);
  if (!attributes) return [`queue ${queue.name}: missing`];
  const redrive = attributes.RedrivePolicy
    ? (JSON.parse(attributes.RedrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: string | number })
    : undefined;
  return queueLines(queue.name, queue, {
    ...attributes,
    ...(redrive ? { RedrivePolicy: `to ${lastSegment(redrive.deadLetterTargetArn)} after ${redrive.maxReceiveCount} receives` } : {}),
  });
}

async function queueAttributes(clients: Pick<AwsClients, 'sqs'>, name: string): Promise<Record<string, string> | undefined> {
  const url = await queueUrl(clients.sqs, name).catch(() => undefined);
  if (!url) return undefined;
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  return Attributes ?? {};
}

async function readBucket(clients: Pick<AwsClients, 's3'>, name: string): Promise<string> {
  const exists = await clients.s3.send(new HeadBucketCommand({ Bucket: name })).then(
    () => true,
    () => false,
  );
  if (!exists) return `bucket ${name}: missing`;
  const lifecycle = await clients.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: name })).catch(() => undefined);
  const days = lifecycle?.Rules?.find((r) => r.Status === 'Enabled' && r.AbortIncompleteMultipartUpload)?.AbortIncompleteMultipartUpload
    ?.DaysAfterInitiation;
  return bucketLine(name, days ?? '(no rule)');
}

async function subscriptions(clients: Pick<AwsClients, 'sns'>, topicArn: string, queueArn: string): Promise<Subscription[]> {
  const found: Subscription[] = [];
  let NextToken: string | undefined;
  do {
    const page = await clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }));
    found.push(...(page.Subscriptions ?? []).filter((s) => s.Protocol === 'sqs' && s.Endpoint === queueArn));
    NextToken = page.NextToken;
  } while (NextToken);
  return found;
}
