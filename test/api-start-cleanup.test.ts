import { createServer, type Server } from 'node:net';
import { ListSubscriptionsByTopicCommand } from '@aws-sdk/client-sns';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../api/start-api.ts';
import { silentLogger } from '../core/logger.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * Issue #13 defect 6, against the real emulator: an API start that fails after
 * its realtime queue was made (here: the port is taken) removes that queue and
 * its subscriptions before the error is passed on.
 */
let stack: TestStack;
let taken: Server;

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise((resolve) => taken?.close(resolve));
  await stack?.stop();
});

const realtimeQueues = async () =>
  (await stack.clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: stack.resources.names.realtimeQueuePrefix }))).QueueUrls ?? [];
const subscriptionEndpoints = async () => {
  const endpoints: string[] = [];
  for (const TopicArn of [stack.resources.videoTopicArn, stack.resources.liveTopicArn]) {
    const { Subscriptions = [] } = await stack.clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    endpoints.push(...Subscriptions.map((s) => s.Endpoint!));
  }
  return endpoints.sort();
};

describe('a failed API start', () => {
  it('leaves no realtime queue or subscription behind', async () => {
    const queuesBefore = await realtimeQueues();
    const subscriptionsBefore = await subscriptionEndpoints();
    const { port } = taken.address() as { port: number };
    await expect(
      startApi({
        config: stack.config,
        clients: stack.clients,
        resources: stack.resources,
        logger: silentLogger(),
        listen: { host: '127.0.0.1', port },
      }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(await realtimeQueues()).toEqual(queuesBefore);
    expect(await subscriptionEndpoints()).toEqual(subscriptionsBefore);
  });
});
