import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { parseEvent, type ReelayEvent } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import { ensureSubscriberQueue } from '../../infra/provision.ts';
import { QueueConsumer } from '../../core/queue-consumer.ts';
import { waitForDrained } from './queue-drained.ts';

/** One message as a subscriber got it: the SNS envelope, and the event checked against its schema. */
export interface TappedEvent {
  envelope: { Type: string; Message: string; MessageAttributes?: Record<string, { Type: string; Value: string }> };
  event: ReelayEvent;
}

/**
 * A test subscriber: its own queue subscribed to the given topics (optionally
 * with a filter policy), exactly like a third-party subscriber. Every message
 * must be a valid reelay event in an SNS envelope, or `errors` says why.
 */
export class EventTap {
  readonly received: TappedEvent[] = [];
  readonly errors: string[] = [];
  private consumer: QueueConsumer | undefined;
  private sqs: SQSClient | undefined;
  private queueUrl = '';

  static async start(
    clients: { sqs: SQSClient; sns: SNSClient },
    { name, topicArns, eventTypes }: { name: string; topicArns: string[]; eventTypes?: string[] },
  ): Promise<EventTap> {
    const tap = new EventTap();
    const queue = await ensureSubscriberQueue(clients, { name, topicArns, ...(eventTypes ? { eventTypes } : {}) });
    tap.sqs = clients.sqs;
    tap.queueUrl = queue.url;
    tap.consumer = new QueueConsumer({
      sqs: clients.sqs,
      queueUrl: queue.url,
      waitSeconds: 1,
      logger: silentLogger(),
      handle: async (message) => {
        try {
          const envelope = JSON.parse(message.Body ?? '') as TappedEvent['envelope'];
          tap.received.push({ envelope, event: parseEvent(JSON.parse(envelope.Message)) });
        } catch (err) {
          tap.errors.push(`${(err as Error).message}: ${message.Body?.slice(0, 200)}`);
        }
      },
    }).start();
    return tap;
  }

  events(): ReelayEvent[] {
    return this.received.map((r) => r.event);
  }

  ids(type?: string): string[] {
    return this.events()
      .filter((e) => type === undefined || e.type === type)
      .map((e) => e.id);
  }

  async waitFor(what: string, match: (event: ReelayEvent) => boolean, timeoutMs = 20_000): Promise<ReelayEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events().find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${this.ids().join(', ') || 'nothing'}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Every event published so far has been received (see waitForDrained for when that holds). */
  async drained(): Promise<void> {
    await waitForDrained(this.sqs!, this.queueUrl);
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}
