import { createApp } from '../../api/app.ts';
import { startEventFeatures, type EventFeatures } from '../../api/event-features.ts';
import { Ingest } from '../../api/ingest.ts';
import { startApiServer } from '../../api/server.ts';
import { createAwsClients, destroyAwsClients } from '../../core/aws.ts';
import type { Config } from '../../core/config.ts';
import { EventPublisher } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import type { ResolvedResources } from '../../core/resources.ts';
import { StatusStore } from '../../core/status-store.ts';

export interface ApiInstance {
  baseUrl: string;
  features: EventFeatures;
  stop(): Promise<void>;
}

/**
 * One more API process's worth of wiring (as api/main.ts does it), with its
 * own AWS clients and realtime queue, against a test stack's emulator: a
 * second API instance behind the same "load balancer".
 */
export async function startApiInstance(stack: { config: Config; resources: ResolvedResources }): Promise<ApiInstance> {
  const { config, resources } = stack;
  const logger = silentLogger();
  const clients = createAwsClients(config.aws, logger);
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
  const features = await startEventFeatures({ clients, resources, config, events, logger });
  const app = createApp({ ingest, store, s3: clients.s3, mediaBucket: resources.names.mediaBucket, api: config.api, logger, ...features.deps });
  const server = await startApiServer(app, { ...config.api, host: '127.0.0.1', port: 0 });
  return {
    baseUrl: server.url,
    features,
    async stop() {
      const closed = server.close();
      await features.stop();
      await closed;
      destroyAwsClients(clients);
    },
  };
}
