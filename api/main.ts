import { createAwsClients, destroyAwsClients } from '../core/aws.ts';
import { EventPublisher } from '../core/events.ts';
import { resolveResources } from '../core/resources.ts';
import { runRole } from '../core/run-role.ts';
import { StatusStore } from '../core/status-store.ts';
import { createApp } from './app.ts';
import { startEventFeatures } from './event-features.ts';
import { Ingest } from './ingest.ts';
import { startApiServer } from './server.ts';

await runRole('api', async ({ config, logger }) => {
  if (config.api.auth.mode === 'unconfigured') {
    throw new Error('no API keys: set REELAY_API_KEYS (or REELAY_API_KEYS_FILE), or REELAY_AUTH=none to run the API open on purpose');
  }
  if (config.api.auth.mode === 'none') logger.warn({ host: config.api.host }, 'REELAY_AUTH=none: the API accepts requests without a key');
  const clients = createAwsClients(config.aws, logger);
  const resources = await resolveResources(clients, config.prefix);
  const store = new StatusStore(clients.s3, resources.names.mediaBucket);
  const events = new EventPublisher(clients.sns, resources);
  const ingest = new Ingest({
    s3: clients.s3,
    sqs: clients.sqs,
    store,
    events,
    rawBucket: resources.names.rawBucket,
    queueUrls: resources.tierQueueUrl,
    logger,
  });
  const eventFeatures = await startEventFeatures({ clients, resources, config, events, logger });
  const app = createApp({ ingest, store, s3: clients.s3, mediaBucket: resources.names.mediaBucket, api: config.api, logger, ...eventFeatures.deps });

  const server = await startApiServer(app, config.api);
  logger.info({ url: server.url, endpoint: config.aws.endpoint ?? 'aws', auth: config.api.auth.mode }, 'api listening');

  return {
    async stop() {
      // SSE streams never end by themselves: end them, so that closing the server can finish.
      const closed = server.close();
      await eventFeatures.stop();
      await closed;
      destroyAwsClients(clients);
    },
  };
});
