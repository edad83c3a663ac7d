import { serve } from '@hono/node-server';
import { createAwsClients, destroyAwsClients } from '../core/aws.ts';
import { EventPublisher } from '../core/events.ts';
import { resolveResources } from '../core/resources.ts';
import { runRole } from '../core/run-role.ts';
import { StatusStore } from '../core/status-store.ts';
import { createApp } from './app.ts';
import { Ingest } from './ingest.ts';

await runRole('api', async ({ config, logger }) => {
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
  const app = createApp({ ingest, store, s3: clients.s3, mediaBucket: resources.names.mediaBucket, api: config.api, logger });

  const server = serve({
    fetch: app.fetch,
    hostname: config.api.host,
    port: config.api.port,
    // Uploads may take long; a client that stops sending for 60 s is dropped instead.
    serverOptions: { requestTimeout: 0, headersTimeout: 60_000 },
  });
  server.setTimeout(60_000);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  logger.info({ url: `http://${config.api.host}:${config.api.port}`, endpoint: config.aws.endpoint ?? 'aws' }, 'api listening');

  return {
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      destroyAwsClients(clients);
    },
  };
});
