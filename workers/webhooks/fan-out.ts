import type { Message } from '@aws-sdk/client-sqs';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { eventFromSqsBody } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import { isEnabled, type WebhookStore } from '../../core/webhooks/store.ts';
import { deliveryAttributes, type DeliveryMessage } from '../../core/webhooks/delivery-message.ts';

/** SQS takes at most 10 messages per batch. */
const BATCH = 10;
/** Event ids remembered to drop SNS's occasional duplicate deliveries. */
const REMEMBERED = 10_000;

/**
 * Turns each event from the webhooks subscriber queue into one delivery
 * message per endpoint of the event's tenant subscribed to its type, so each endpoint is retried
 * (and dead-lettered) on its own: a failing endpoint never causes another to
 * get the event twice. If sending some deliveries fails, the event comes back
 * and is fanned out again; receivers drop the repeats by `webhook-id`.
 */
export class WebhookFanOut {
  private readonly sqs: SQSClient;
  private readonly store: WebhookStore;
  private readonly deliveriesUrl: string;
  private readonly logger: Logger;
  private readonly seen = new Set<string>();

  constructor({ sqs, store, deliveriesUrl, logger }: { sqs: SQSClient; store: WebhookStore; deliveriesUrl: string; logger: Logger }) {
    this.sqs = sqs;
    this.store = store;
    this.deliveriesUrl = deliveriesUrl;
    this.logger = logger;
  }

  /** Throws on a message that is not a reelay event (it ends in the queue's DLQ) or when queueing deliveries fails. */
  handle = async (message: Message): Promise<void> => {
    const event = eventFromSqsBody(message.Body ?? '');
    if (this.seen.has(event.id)) return;
    // Only the event's own tenant's endpoints: a webhook never receives another tenant's events.
    const targets = (await this.store.list(event.tenant)).filter((webhook) => isEnabled(webhook) && webhook.events.includes(event.type));
    for (let i = 0; i < targets.length; i += BATCH) {
      const entries = targets.slice(i, i + BATCH).map((webhook, n) => {
        const delivery: DeliveryMessage = { webhookId: webhook.id, event };
        return { Id: String(n), MessageBody: JSON.stringify(delivery), MessageAttributes: deliveryAttributes(delivery) };
      });
      const { Failed = [] } = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.deliveriesUrl, Entries: entries }));
      if (Failed.length > 0)
        throw new Error(`could not queue ${Failed.length} webhook deliveries: ${Failed[0]?.Message ?? Failed[0]?.Code}`);
    }
    this.remember(event.id);
    this.logger.debug({ eventId: event.id, type: event.type, endpoints: targets.length }, 'event fanned out to webhooks');
  };

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > REMEMBERED) this.seen.delete(this.seen.values().next().value!);
  }
}
