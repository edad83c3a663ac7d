import { createAwsClients, destroyAwsClients } from '../../core/aws.ts';
import { Counter, createMetricsRegistry, serveRoleMetrics } from '../../core/metrics.ts';
import { queueUrl, resourceNames } from '../../core/resources.ts';
import { runRole } from '../../core/run-role.ts';
import { QueueConsumer } from '../../core/queue-consumer.ts';
import { Notifier } from './notifier.ts';

await runRole('notifier', async ({ config, logger }) => {
  const registry = createMetricsRegistry('notifier');
  const received = new Counter({
    name: 'reelay_notifier_events_total',
    help: 'Events received through SNS → SQS, by type; duplicate="true" for a redelivery dropped by id.',
    labelNames: ['type', 'duplicate'],
    registers: [registry],
  });
  const metrics = await serveRoleMetrics({ registry, role: 'notifier', settings: config.metrics, logger });
  const clients = createAwsClients(config.aws, logger);
  const url = await queueUrl(clients.sqs, resourceNames(config.prefix).notifierQueue);
  const notifier = new Notifier({
    logger,
    onEvent: (event, duplicate) => received.inc({ type: event.type, duplicate: String(duplicate) }),
  });
  const consumer = new QueueConsumer({
    sqs: clients.sqs,
    queueUrl: url,
    handle: notifier.handle,
    waitSeconds: config.worker.pollWaitSeconds,
    logger,
  }).start();
  logger.info({ queue: url }, 'notifier listening');
  return {
    async stop() {
      await consumer.stop();
      await metrics?.close();
      destroyAwsClients(clients);
    },
  };
});
