import { ChangeMessageVisibilityCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../../core/config/index.ts';
import { describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { webhookHeaders } from '../../core/webhooks/standard-webhooks.ts';
import { tenantOf } from '../../core/tenants.ts';
import { isEnabled, signingSecrets, type Webhook, type WebhookInfo, type WebhookStore } from '../../core/webhooks/store.ts';
import { makeEvent, type EventPublisher } from '../../core/events.ts';
import { deliveryAttributes, parseDeliveryMessage, type DeliveryMessage } from '../../core/webhooks/delivery-message.ts';
import { SecretKeyError } from '../../core/webhooks/secret-box.ts';
import { postWebhook, type PostOptions, type PostResult } from '../../core/webhooks/post.ts';
import type { WebhookMetrics } from './metrics.ts';
import { backoffSeconds } from '../../core/backoff.ts';

/** The delivery settings, as the configuration defines them (units and defaults there); no `disableAfterMs`: never disable. */
export type DeliverySettings = Pick<Config['webhooks'], 'maxAttempts' | 'retryBaseDelayMs' | 'timeoutMs' | 'allowPrivate'> &
  Partial<Pick<Config['webhooks'], 'disableAfterMs'>>;

/**
 * Longest retry wait, seconds. SQS allows a message's visibility to be set at
 * most 12 h from its receipt; half of that leaves room.
 */
export const MAX_RETRY_DELAY_SECONDS = 6 * 3600;

/** SQS's longest message delay, seconds: a held delivery (see `hold`) comes back at most this late. */
const MAX_HOLD_SECONDS = 900;

/** `source` of the events the dispatcher publishes. */
export const EVENT_SOURCE = '/reelay/webhooks';

/** A delivery's back-off before attempt `attempt + 1` (full jitter, see core/backoff.ts). */
export function retryDelaySeconds(attempt: number, baseMs: number, random: () => number = Math.random): number {
  return backoffSeconds(attempt, baseMs, MAX_RETRY_DELAY_SECONDS, random);
}

/**
 * Delivers one message of the deliveries queue: sign (Standard Webhooks) and
 * POST. On failure the message is hidden for the back-off delay (its SQS
 * visibility timeout: no timers in memory, a restart loses nothing) and comes
 * back as the next attempt; SQS counts the attempts. After the last one it is
 * kept in the webhook's dead letters (`WebhookDeadLetters`) and the failure is
 * recorded on the webhook.
 */
export class WebhookDelivery {
  private readonly sqs: SQSClient;
  private readonly store: WebhookStore;
  private readonly queueUrl: string;
  private readonly dlqUrl: string;
  private readonly settings: DeliverySettings;
  private readonly logger: Logger;
  private readonly post: typeof postWebhook;
  private readonly events: EventPublisher | undefined;
  private readonly metrics: WebhookMetrics | undefined;
  /** Whether this process has said that it cannot open a webhook's secret (said once, at error level). */
  private keyProblemSaid = false;

  constructor(opts: {
    sqs: SQSClient;
    store: WebhookStore;
    queueUrl: string;
    dlqUrl: string;
    settings: DeliverySettings;
    logger: Logger;
    post?: typeof postWebhook;
    /** Where `webhook.disabled` is published. */
    events?: EventPublisher;
    metrics?: WebhookMetrics;
  }) {
    this.events = opts.events;
    this.sqs = opts.sqs;
    this.store = opts.store;
    this.queueUrl = opts.queueUrl;
    this.dlqUrl = opts.dlqUrl;
    this.settings = opts.settings;
    this.logger = opts.logger;
    this.post = opts.post ?? postWebhook;
    this.metrics = opts.metrics;
  }

  handle = async (message: Message): Promise<void | 'keep'> => {
    const attempt = Math.max(1, Number(message.Attributes?.ApproximateReceiveCount ?? '1'));
    let delivery: DeliveryMessage;
    try {
      delivery = parseDeliveryMessage(message.Body ?? '');
    } catch (err) {
      // Retrying cannot make it valid.
      await this.deadLetter(message, { reason: `not a delivery message: ${describeError(err)}`, attempts: attempt });
      this.metrics?.ended('invalid', attempt);
      return;
    }
    const { webhookId, event } = delivery;
    const log = this.logger.child({ webhookId, eventId: event.id, attempt });
    let webhook: Webhook | undefined;
    try {
      webhook = await this.store.get(webhookId);
    } catch (err) {
      if (!(err instanceof SecretKeyError)) throw err;
      await this.hold(delivery, err, log);
      this.metrics?.ended('held', attempt);
      return;
    }
    if (!webhook) {
      log.info('the webhook was deleted; delivery dropped');
      this.metrics?.ended('dropped', attempt);
      return;
    }
    if (!isEnabled(webhook)) {
      log.info('the webhook is disabled; delivery dropped');
      return;
    }
    if (tenantOf(webhook) !== event.tenant) {
      // Fan-out only pairs an event with its own tenant's endpoints; a message saying otherwise is not ours to send.
      log.error({ tenant: event.tenant }, "delivery for another tenant's webhook dropped");
      return;
    }

    const body = JSON.stringify(event);
    const headers = webhookHeaders({ id: event.id, body, secret: signingSecrets(webhook) });
    const options: PostOptions = { timeoutMs: this.settings.timeoutMs, allowPrivate: this.settings.allowPrivate };
    const result = await this.post(webhook.url, body, headers, options);
    this.metrics?.requestSeconds.observe({ result: result.ok ? 'ok' : 'error' }, result.ms / 1000);
    if (result.ok) {
      log.info({ status: result.status, ms: result.ms }, 'webhook delivered');
      if (webhook.failingSince)
        await this.store.recordSuccess(webhookId).catch((err: unknown) => log.warn({ err }, 'could not clear failingSince'));
      this.metrics?.ended('delivered', attempt);
      return;
    }
    if (attempt < this.settings.maxAttempts) {
      const delaySeconds = retryDelaySeconds(attempt, this.settings.retryBaseDelayMs);
      await this.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: delaySeconds,
        }),
      );
      log.warn({ reason: result.reason, status: result.status, retryInSeconds: delaySeconds }, 'webhook delivery failed; will retry');
      this.metrics?.ended('retry', attempt);
      return 'keep';
    }

    log.error(
      { reason: result.reason, status: result.status, attempts: attempt },
      'webhook delivery failed for the last time; dead-lettered',
    );
    await this.store.deadLetters.put({ delivery, reason: result.reason, attempts: attempt, at: new Date().toISOString() });
    await this.recordFailure(delivery, result, attempt, log);
    this.metrics?.ended('dead_lettered', attempt);
  };

  /** A message that is not a delivery, to the deliveries DLQ for an operator (a delivery given up goes to its webhook's dead letters). */
  private async deadLetter(message: Message, { reason, attempts }: { reason: string; attempts: number }): Promise<void> {
    const attributes: Record<string, { DataType: string; StringValue: string }> = {
      reason: { DataType: 'String', StringValue: reason.slice(0, 1000) || 'unknown' },
      attempts: { DataType: 'Number', StringValue: String(attempts) },
    };
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.dlqUrl, MessageBody: message.Body ?? '', MessageAttributes: attributes }));
  }

  /**
   * A delivery whose webhook's secret this process cannot open (REELAY_SECRETS_KEY not set here, or not the
   * key it was sealed with): nothing is sent and no attempt is used up. It is queued again as a fresh message,
   * due after the retry base delay (at most 15 min), for as long as the operator takes to give this process
   * the key; deleted meanwhile, the webhook's deliveries are dropped as usual. Said once per process at error
   * level (a crash loop or a log line per event would help no one), each later hold at debug.
   */
  private async hold(delivery: DeliveryMessage, err: SecretKeyError, log: Logger): Promise<void> {
    const delaySeconds = Math.min(MAX_HOLD_SECONDS, Math.max(1, Math.round(this.settings.retryBaseDelayMs / 1000)));
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(delivery),
        MessageAttributes: deliveryAttributes(delivery),
        DelaySeconds: delaySeconds,
      }),
    );
    const said = `webhook deliveries cannot be signed: ${err.message}. Give this process the API's REELAY_SECRETS_KEY and restart it; until then deliveries are kept and tried again every ${delaySeconds} s`;
    if (this.keyProblemSaid) log.debug({ retryInSeconds: delaySeconds }, 'delivery held: its signing secret cannot be opened here');
    else log.error({ retryInSeconds: delaySeconds }, said);
    this.keyProblemSaid = true;
  }

  private async recordFailure(delivery: DeliveryMessage, result: PostResult, attempts: number, log: Logger): Promise<void> {
    try {
      const { webhook, disabled } = await this.store.recordFailure(
        delivery.webhookId,
        {
          at: new Date().toISOString(),
          eventId: delivery.event.id,
          eventType: delivery.event.type,
          attempts,
          reason: result.reason,
          ...(result.status !== undefined ? { status: result.status } : {}),
        },
        { disableAfterMs: this.settings.disableAfterMs ?? 0 },
      );
      if (disabled && webhook) await this.announceDisabled(webhook, log);
    } catch (err) {
      // The delivery is in the DLQ either way; only the counter on the webhook is missing.
      log.error({ err }, 'could not record the failed delivery on the webhook');
    }
  }

  /** `webhook.disabled` to the tenant's other subscribers (the disabled endpoint itself gets nothing more). */
  private async announceDisabled(webhook: WebhookInfo, log: Logger): Promise<void> {
    log.warn({ reason: webhook.disabledReason }, 'webhook disabled after failing too long');
    if (!this.events) return;
    const data = {
      webhookId: webhook.id,
      url: webhook.url,
      reason: webhook.disabledReason ?? 'failing',
      failingSince: webhook.failingSince ?? webhook.updatedAt,
    };
    const options = {
      id: `webhook.disabled:${webhook.id}:${webhook.updatedAt}`,
      source: EVENT_SOURCE,
      subject: webhook.id,
      tenant: tenantOf(webhook),
    };
    await this.events.publish(makeEvent('webhook.disabled', data, options));
  }
}
