import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../../core/config/index.ts';
import type { EventPublisher } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import type { WebhookStore } from '../../core/webhooks/store.ts';
import { QueueConsumer } from '../../core/queue-consumer.ts';
import { WebhookDelivery, type DeliverySettings } from './deliver.ts';
import { WebhookFanOut } from './fan-out.ts';
import type { WebhookMetrics } from './metrics.ts';

export interface WebhookDispatcherOptions {
  sqs: SQSClient;
  store: WebhookStore;
  /** The subscriber queue (`<prefix>-webhooks`), the deliveries queue and its DLQ. */
  queueUrls: { events: string; deliveries: string; deliveriesDlq: string };
  settings: DeliverySettings;
  /** SQS long-poll wait, seconds (the workers' setting). */
  pollWaitSeconds: Config['worker']['pollWaitSeconds'];
  metrics?: WebhookMetrics;
  logger: Logger;
  /** Where `webhook.disabled` is published (unset: it is only logged). */
  events?: EventPublisher;
}

/** Extra visibility beyond the request timeout while a delivery is in hand, seconds. */
const DELIVERY_MARGIN_SECONDS = 30;

/**
 * The webhook dispatcher role: one consumer fans events out into per-endpoint
 * delivery messages, another delivers them (a received batch concurrently,
 * so one slow endpoint does not hold up the others).
 */
export class WebhookDispatcher {
  private readonly fanOut: QueueConsumer;
  private readonly deliveries: QueueConsumer;
  private stopped: Promise<void> | undefined;

  constructor({ sqs, store, queueUrls, settings, pollWaitSeconds, metrics, logger, events }: WebhookDispatcherOptions) {
    const fanOut = new WebhookFanOut({ sqs, store, deliveriesUrl: queueUrls.deliveries, logger });
    const delivery = new WebhookDelivery({
      sqs,
      store,
      queueUrl: queueUrls.deliveries,
      dlqUrl: queueUrls.deliveriesDlq,
      settings,
      logger,
      ...(events ? { events } : {}),
      ...(metrics ? { metrics } : {}),
    });
    this.fanOut = new QueueConsumer({
      sqs,
      queueUrl: queueUrls.events,
      handle: metrics ? countEach(fanOut.handle, () => metrics.fannedOut.inc()) : fanOut.handle,
      waitSeconds: pollWaitSeconds,
      logger,
    });
    this.deliveries = new QueueConsumer({
      sqs,
      queueUrl: queueUrls.deliveries,
      handle: delivery.handle,
      waitSeconds: pollWaitSeconds,
      concurrent: true,
      visibilityTimeoutSeconds: Math.ceil(settings.timeoutMs / 1000) + DELIVERY_MARGIN_SECONDS,
      logger,
    });
  }

  start(): this {
    this.fanOut.start();
    this.deliveries.start();
    return this;
  }

  /** Stops taking new events and deliveries, both at once; the ones in hand finish. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.all([this.fanOut.stop(), this.deliveries.stop()]);
    })();
    return this.stopped;
  }
}

/** A queue handler that also counts each message it handled without throwing. */
function countEach<A extends unknown[], R>(handle: (...args: A) => Promise<R>, count: () => void): (...args: A) => Promise<R> {
  return async (...args) => {
    const result = await handle(...args);
    count();
    return result;
  };
}
