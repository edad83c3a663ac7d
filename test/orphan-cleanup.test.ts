import { CreateQueueCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeOrphanedRealtimeQueues } from '../api/realtime/orphan-cleanup.ts';
import { createRealtimeQueue } from '../api/realtime/realtime-queue.ts';
import { silentLogger } from '../core/logger.ts';
import { provision } from '../infra/provision.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * Issue #13 defect 3, against the real emulator: the realtime orphan clean-up
 * removes only this deployment's realtime queues, never those of a deployment
 * whose prefix starts like ours (`<prefix>-realtime-eu`, a valid prefix).
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
});
afterAll(async () => {
  await stack?.stop();
});

const queueNames = async (prefix: string) =>
  ((await stack.clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }))).QueueUrls ?? []).map((u) =>
    u.slice(u.lastIndexOf('/') + 1),
  );

describe('realtime orphan clean-up', () => {
  it('removes a stale realtime queue of this deployment and nothing of a deployment named <prefix>-realtime-eu', async () => {
    const namePrefix = stack.resources.names.realtimeQueuePrefix;
    // The stack's own API instance's queue, alive: kept as the caller's own.
    const [ownUrl, ...others] = (await stack.clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: namePrefix }))).QueueUrls ?? [];
    expect(others).toEqual([]);
    const otherPrefix = `${stack.config.prefix}-realtime-eu`;
    await provision(
      stack.clients,
      { prefix: otherPrefix, region: 'us-east-1', visibilityTimeoutSeconds: 60, maxAttempts: 3 },
      silentLogger(),
    );
    // A queue with the right name shape but not made by the gateway (no role tag): not ours to delete either.
    await stack.clients.sqs.send(new CreateQueueCommand({ QueueName: `${namePrefix}0badcafe` }));
    const topicArns = [stack.resources.videoTopicArn, stack.resources.liveTopicArn];
    const orphan = `${namePrefix}deadbeef`;
    await createRealtimeQueue(stack.clients, { name: orphan, topicArns, now: new Date(Date.now() - 60 * 60_000) });
    const otherQueues = await queueNames(otherPrefix);
    expect(otherQueues.length).toBeGreaterThanOrEqual(10);

    const removed = await removeOrphanedRealtimeQueues(stack.clients, {
      namePrefix,
      topicArns,
      orphanAfterMs: 15 * 60_000,
      // A day later: every queue above is older than the limit.
      now: Date.now() + 24 * 3600_000,
      keepUrl: ownUrl,
      logger: silentLogger(),
    });
    expect(removed).toEqual([orphan]);
    expect(await queueNames(otherPrefix)).toEqual(otherQueues);
    expect(await queueNames(`${namePrefix}0badcafe`)).toEqual([`${namePrefix}0badcafe`]);
  });
});
