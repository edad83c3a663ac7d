import { createAwsClients, destroyAwsClients } from '../../core/aws.ts';
import { EventPublisher } from '../../core/events.ts';
import { serveRoleMetrics } from '../../core/metrics.ts';
import { queueUrl, resolveResources, resourceNames } from '../../core/resources.ts';
import { runRole } from '../../core/run-role.ts';
import { WebhookStore } from '../../core/webhooks/store.ts';
import { SecretBox } from '../../core/webhooks/secret-box.ts';
import { WebhookDispatcher } from './dispatcher.ts';
import { WebhookMetrics } from './metrics.ts';

/** `npm run webhooks`: delivers events to the registered webhook endpoints. */
await runRole('webhooks', async ({ config, logger }) => {
  const metrics = new WebhookMetrics();
  const metricsServer = await serveRoleMetrics({ registry: metrics.registry, role: 'webhooks', settings: config.metrics, logger });
  const clients = createAwsClients(config.aws, logger);
  const names = resourceNames(config.prefix);
  const [events, deliveries, deliveriesDlq] = await Promise.all(
    [names.webhooksQueue, names.webhookDeliveriesQueue, names.webhookDeliveriesDlq].map((name) => queueUrl(clients.sqs, name)),
  );
  const dispatcher = new WebhookDispatcher({
    sqs: clients.sqs,
    store: new WebhookStore(clients.s3, names.mediaBucket, new SecretBox(config.secretsKey)),
    queueUrls: { events: events!, deliveries: deliveries!, deliveriesDlq: deliveriesDlq! },
    settings: config.webhooks,
    pollWaitSeconds: config.worker.pollWaitSeconds,
    metrics,
    logger,
    events: new EventPublisher(clients.sns, await resolveResources(clients, config.prefix)),
  }).start();
  if (!config.secretsKey) {
    logger.warn(
      "REELAY_SECRETS_KEY is not set: deliveries to webhooks whose secret the API stored encrypted are held (kept, not sent) until this process has the API's key",
    );
  }
  logger.info({ allowPrivate: config.webhooks.allowPrivate, maxAttempts: config.webhooks.maxAttempts }, 'webhook dispatcher listening');
  return {
    async stop() {
      await dispatcher.stop();
      await metricsServer?.close();
      destroyAwsClients(clients);
    },
  };
});
