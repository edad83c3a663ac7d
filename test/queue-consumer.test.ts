import { CreateQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { QueueConsumer } from '../core/queue-consumer.ts';
import { waitForDrained } from './support/queue-drained.ts';
import { recordingSqs } from './support/recording-sqs.ts';
import { startTestStack, waitFor, type TestStack } from './support/stack.ts';

/**
 * The plain SQS consumer (core/queue-consumer.ts, on sqs-consumer) against the
 * real emulator. Issue #16 defect 3: a subscriber stopped while its long poll
 * is in flight must not leave the next message invisible for the queue's
 * visibility timeout (30 s), which is what aborting the poll did.
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
});
afterAll(async () => {
  await stack?.stop();
});

async function queue(name: string): Promise<string> {
  const { QueueUrl } = await stack.clients.sqs.send(
    new CreateQueueCommand({ QueueName: `${stack.config.prefix}-${name}`, Attributes: { VisibilityTimeout: '30' } }),
  );
  return QueueUrl!;
}

describe('QueueConsumer', () => {
  it('a message sent while a subscriber stops is handled at once, by it or by its successor, not 30 s later', async () => {
    const queueUrl = await queue('restart');
    const handled: { by: string; at: number }[] = [];
    const recorded = recordingSqs(stack.config.aws);
    const consumer = (by: string) =>
      new QueueConsumer({
        sqs: recorded.sqs,
        queueUrl,
        waitSeconds: 3,
        logger: silentLogger(),
        handle: async () => {
          handled.push({ by, at: Date.now() });
        },
      }).start();

    const old = consumer('old');
    const longPoll = () => recorded.calls.find((c) => c.command === 'ReceiveMessageCommand' && !c.ended);
    await waitFor('its long poll to be in flight', longPoll);
    const stopping = old.stop();
    const sentAt = Date.now();
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'during shutdown' }));
    await stopping;
    const next = consumer('new');
    try {
      const first = await waitFor('the message to be handled', () => handled[0], 15_000);
      expect(first.at - sentAt).toBeLessThan(10_000);
    } finally {
      await next.stop();
      recorded.sqs.destroy();
    }
    // Handled once: both consumers have stopped and the queue holds nothing, so no second delivery is pending.
    await waitForDrained(stack.clients.sqs, queueUrl);
    expect(handled).toHaveLength(1);
  });

  it('keeps a message the handler asks to keep, and deletes the others; a throwing handler leaves its message', async () => {
    const queueUrl = await queue('keep');
    const seen = new Map<string, number>();
    const c = new QueueConsumer({
      sqs: stack.clients.sqs,
      queueUrl,
      waitSeconds: 1,
      visibilityTimeoutSeconds: 1,
      logger: silentLogger(),
      handle: async (message) => {
        const body = message.Body ?? '';
        seen.set(body, (seen.get(body) ?? 0) + 1);
        if (body === 'keep') return 'keep';
        if (body === 'throw') throw new Error('boom');
      },
    }).start();
    try {
      for (const body of ['keep', 'throw', 'done'])
        await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      // Kept and thrown messages come back after their 1 s visibility; the handled one does not.
      await waitFor(
        'keep and throw to come back',
        () => ((seen.get('keep') ?? 0) >= 2 && (seen.get('throw') ?? 0) >= 2 ? true : undefined),
        15_000,
      );
      expect(seen.get('done')).toBe(1);
    } finally {
      await c.stop();
    }
  });
});
