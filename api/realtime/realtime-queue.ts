import { SubscribeCommand, UnsubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  TagQueueCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { EVENT_TYPES } from '../../core/events.ts';
import { snsToSqsPolicy } from '../../core/sns-sqs-policy.ts';

/** Tags on a realtime queue: what it is, and when its owner last said it is alive. */
export const ROLE_TAG = 'reelay:role';
export const HEARTBEAT_TAG = 'reelay:heartbeat';

/** `<prefix>-realtime-<instance>`: the instance id is 8 hex digits. */
export function realtimeQueueName(namePrefix: string, instanceId: string): string {
  return `${namePrefix}${instanceId}`;
}

/** Whether `name` has exactly the shape of a realtime queue name under `namePrefix` (not another prefix's queue). */
export function isRealtimeQueueName(namePrefix: string, name: string): boolean {
  return name.startsWith(namePrefix) && /^[0-9a-f]{8}$/.test(name.slice(namePrefix.length));
}

/** Messages older than this are useless to a live feed (SQS's minimum retention). */
const RETENTION_SECONDS = '60';

export interface RealtimeQueue {
  name: string;
  url: string;
  arn: string;
  subscriptionArns: string[];
}

/**
 * Creates this API process's own queue, tagged with a heartbeat, and
 * subscribes it to the event topics (filter policy: reelay's event types).
 * A half-made queue is removed before the error is passed on.
 */
export async function createRealtimeQueue(
  { sqs, sns }: { sqs: SQSClient; sns: SNSClient },
  { name, topicArns, now = new Date() }: { name: string; topicArns: string[]; now?: Date },
): Promise<RealtimeQueue> {
  const { QueueUrl: url } = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: { MessageRetentionPeriod: RETENTION_SECONDS },
      tags: { [ROLE_TAG]: 'realtime', [HEARTBEAT_TAG]: now.toISOString() },
    }),
  );
  if (!url) throw new Error(`queue ${name} has no URL`);
  const queue: RealtimeQueue = { name, url, arn: '', subscriptionArns: [] };
  try {
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    if (!Attributes?.QueueArn) throw new Error(`queue ${name} has no ARN`);
    queue.arn = Attributes.QueueArn;
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: snsToSqsPolicy(queue.arn, topicArns) } }));
    for (const topicArn of topicArns) {
      const { SubscriptionArn } = await sns.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'sqs',
          Endpoint: queue.arn,
          Attributes: { FilterPolicy: JSON.stringify({ type: EVENT_TYPES }) },
          ReturnSubscriptionArn: true,
        }),
      );
      if (SubscriptionArn) queue.subscriptionArns.push(SubscriptionArn);
    }
    return queue;
  } catch (err) {
    await deleteRealtimeQueue({ sqs, sns }, queue).catch(() => undefined);
    throw err;
  }
}

/** Says "still alive" to other instances' orphan clean-up. */
export async function touchRealtimeQueue(sqs: SQSClient, url: string, now = new Date()): Promise<void> {
  await sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { [HEARTBEAT_TAG]: now.toISOString() } }));
}

/** Unsubscribes and deletes the queue; each step is attempted even when another failed. */
export async function deleteRealtimeQueue({ sqs, sns }: { sqs: SQSClient; sns: SNSClient }, queue: RealtimeQueue): Promise<void> {
  const errors: unknown[] = [];
  for (const SubscriptionArn of queue.subscriptionArns) {
    await sns.send(new UnsubscribeCommand({ SubscriptionArn })).catch((err: unknown) => errors.push(err));
  }
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queue.url })).catch((err: unknown) => errors.push(err));
  if (errors.length > 0) throw new AggregateError(errors, `could not fully remove realtime queue ${queue.name}`);
}
