import { createAwsClients, destroyAwsClients } from '../../core/aws.ts';
import { queueUrl, resourceNames } from '../../core/resources.ts';
import { runRole } from '../../core/run-role.ts';
import { QueueConsumer } from '../../core/queue-consumer.ts';
import { Notifier } from './notifier.ts';

await runRole('notifier', async ({ config, logger }) => {
  const clients = createAwsClients(config.aws, logger);
  const url = await queueUrl(clients.sqs, resourceNames(config.prefix).notifierQueue);
  const notifier = new Notifier({ logger });
  const consumer = new QueueConsumer({ sqs: clients.sqs, queueUrl: url, handle: notifier.handle, waitSeconds: config.worker.pollWaitSeconds, logger }).start();
  logger.info({ queue: url }, 'notifier listening');
  return {
    async stop() {
      await consumer.stop();
      destroyAwsClients(clients);
    },
  };
});
