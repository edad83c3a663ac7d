import { Counter, createMetricsRegistry, Histogram, type Registry } from '../../core/metrics.ts';

export type DeliveryOutcome = 'delivered' | 'retry' | 'dead_lettered' | 'dropped' | 'invalid' | 'held';

/** The webhook dispatcher's Prometheus metrics (prom-client), plus the default process metrics. */
export class WebhookMetrics {
  readonly registry: Registry;
  readonly deliveries: Counter<'outcome'>;
  readonly attempts: Histogram;
  readonly requestSeconds: Histogram<'result'>;
  readonly fannedOut: Counter;

  constructor(registry: Registry = createMetricsRegistry('webhooks')) {
    this.registry = registry;
    const registers = [registry];
    this.deliveries = new Counter({
      name: 'reelay_webhook_deliveries_total',
      help: 'Delivery attempts by outcome: delivered, retry (will be tried again), dead_lettered (last attempt failed), dropped (webhook deleted), invalid, held (its signing secret cannot be opened here: REELAY_SECRETS_KEY missing or another key; kept, no attempt used).',
      labelNames: ['outcome'],
      registers,
    });
    this.attempts = new Histogram({
      name: 'reelay_webhook_delivery_attempts',
      help: 'The attempt number at which a delivery ended (delivered or dead-lettered).',
      buckets: [1, 2, 3, 4, 5, 6, 8, 10, 15, 25],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'reelay_webhook_request_duration_seconds',
      help: 'Time of one POST to a webhook endpoint, by result (ok or error).',
      labelNames: ['result'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.fannedOut = new Counter({
      name: 'reelay_webhook_fanout_total',
      help: 'Events taken from the webhooks subscriber queue and fanned out to endpoints.',
      registers,
    });
  }

  ended(outcome: DeliveryOutcome, attempt: number): void {
    this.deliveries.inc({ outcome });
    if (outcome === 'delivered' || outcome === 'dead_lettered') this.attempts.observe(attempt);
  }
}
