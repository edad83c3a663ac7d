import { ListSubscriptionsByTopicCommand, UnsubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Logger } from '../../core/logger.ts';
import { HEARTBEAT_TAG, isRealtimeQueueName, ROLE_TAG } from './realtime-queue.ts';

export interface OrphanCleanupOptions {
  /** `<prefix>-realtime-`: only queues named this plus an instance id are considered. */
  namePrefix: string;
  topicArns: string[];
  /** A queue whose heartbeat is older than this is an orphan, ms. */
  orphanAfterMs: number;
  /** This process's own queue, never touched. */
  keepUrl?: string;
  now?: number;
  logger: Logger;
}

const isMissingQueue = (err: unknown) => /QueueDoesNotExist|NonExistentQueue/.test((err as { name?: string }).name ?? '');

/**
 * Removes the realtime queues (and their SNS subscriptions) of API processes
 * that died without cleaning up: those whose heartbeat tag is older than
 * `orphanAfterMs`. A queue is one of ours only if its name has the exact shape
 * `<prefix>-realtime-<8 hex digits>` and it carries the `reelay:role=realtime`
 * tag: a deployment whose prefix merely starts like ours
 * (`reelay-realtime-eu`) keeps its queues. Safe to run from several processes
 * at once. Returns the names it removed.
 */
export async function removeOrphanedRealtimeQueues(
  { sqs, sns }: { sqs: SQSClient; sns: SNSClient },
  { namePrefix, topicArns, orphanAfterMs, keepUrl, now = Date.now(), logger }: OrphanCleanupOptions,
): Promise<string[]> {
  const urls: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: namePrefix, MaxResults: 1000, NextToken }));
    urls.push(...(page.QueueUrls ?? []));
    NextToken = page.NextToken;
  } while (NextToken);

  const orphans: { name: string; url: string; arn: string; idleMs: number }[] = [];
  for (const url of urls) {
    const name = url.slice(url.lastIndexOf('/') + 1);
    if (url === keepUrl || !isRealtimeQueueName(namePrefix, name)) continue;
    try {
      const lastSeen = await lastHeartbeat(sqs, url);
      if (!lastSeen || now - lastSeen.at < orphanAfterMs) continue;
      orphans.push({ name, url, arn: lastSeen.arn, idleMs: now - lastSeen.at });
    } catch (err) {
      if (!isMissingQueue(err)) throw err; // removed meanwhile by another instance
    }
  }
  if (orphans.length === 0) return [];

  const arns = new Set(orphans.map((o) => o.arn));
  for (const TopicArn of topicArns) {
    let token: string | undefined;
    do {
      const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn, NextToken: token }));
      for (const sub of page.Subscriptions ?? []) {
        if (sub.Endpoint && arns.has(sub.Endpoint) && sub.SubscriptionArn) {
          await sns.send(new UnsubscribeCommand({ SubscriptionArn: sub.SubscriptionArn }));
        }
      }
      token = page.NextToken;
    } while (token);
  }
  for (const orphan of orphans) {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: orphan.url })).catch((err: unknown) => {
      if (!isMissingQueue(err)) throw err;
    });
    logger.info({ queue: orphan.name, idleMinutes: Math.round(orphan.idleMs / 60_000) }, 'removed an orphaned realtime queue');
  }
  return orphans.map((o) => o.name);
}

/** The queue's last heartbeat, or undefined when it is not a realtime queue (no role tag) or has no valid heartbeat. */
async function lastHeartbeat(sqs: SQSClient, url: string): Promise<{ at: number; arn: string } | undefined> {
  const [{ Tags = {} }, { Attributes = {} }] = await Promise.all([
    sqs.send(new ListQueueTagsCommand({ QueueUrl: url })),
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })),
  ]);
  if (Tags[ROLE_TAG] !== 'realtime') return undefined;
  const at = Date.parse(Tags[HEARTBEAT_TAG] ?? '');
  return Number.isFinite(at) && Attributes.QueueArn ? { at, arn: Attributes.QueueArn } : undefined;
}
