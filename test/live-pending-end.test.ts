import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventPublisher, type ReelayEvent } from '../core/events.ts';
import { silentLogger } from '../core/logger.ts';
import { LiveChannels } from '../core/live/channels.ts';
import { EventTap } from './support/event-tap.ts';
import { faultySns } from './support/faults.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * Issue #13 defect 2: a `live.ended` whose publish failed is published by the
 * next start of the channel, before that start's own `live.started`, against
 * the real emulator (S3 documents, SNS topics, a subscriber queue).
 */
let stack: TestStack;
let tap: EventTap;

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
  const { liveTopicArn } = stack.resources;
  tap = await EventTap.start(stack.clients, { name: `${stack.config.prefix}-tap-pending`, topicArns: [liveTopicArn] });
});
afterAll(async () => {
  await tap?.stop();
  await stack?.stop();
});

describe('a live.ended that could not be published', () => {
  it('goes out with the next start, before the new session’s live.started', async () => {
    const { sns, faults } = faultySns(stack.config.aws, { when: (m) => m.includes('"type":"live.ended"'), remaining: 1 });
    const publisher = new EventPublisher(sns, stack.resources);
    const published: string[] = [];
    const events = {
      publish: async (event: ReelayEvent) => {
        await publisher.publish(event);
        published.push(event.id);
      },
    } as EventPublisher;
    const channels = new LiveChannels({
      s3: stack.clients.s3,
      mediaBucket: stack.resources.names.mediaBucket,
      events,
      logger: silentLogger(),
      source: '/reelay/api',
    });

    const first = await channels.start('default', 'pending-1');
    const firstSession = first.channel.session!.sessionId;
    await expect(channels.end('default', 'pending-1')).rejects.toMatchObject({ status: 503 });
    expect(faults.injected).toBe(1);

    const second = await channels.start('default', 'pending-1');
    expect(second.started).toBe(true);
    const secondSession = second.channel.session!.sessionId;
    expect(secondSession).not.toBe(firstSession);
    expect(published).toEqual([
      `live.started:pending-1:${firstSession}`,
      `live.ended:pending-1:${firstSession}`,
      `live.started:pending-1:${secondSession}`,
    ]);
    // And it reached a subscriber.
    await tap.waitFor('the first session’s live.ended', (e) => e.id === `live.ended:pending-1:${firstSession}`);
    sns.destroy();
  });
});
