import { startApi, type RunningApi } from '../../api/start-api.ts';
import type { EventFeatures } from '../../api/event-features.ts';
import { createAwsClients, destroyAwsClients } from '../../core/aws.ts';
import type { Config } from '../../core/config/index.ts';
import { silentLogger } from '../../core/logger.ts';
import type { ResolvedResources } from '../../core/resources.ts';

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
  const api: RunningApi = await startApi({ config, clients, resources, logger, listen: { host: '127.0.0.1', port: 0 } });
  return {
    baseUrl: api.url,
    features: api.features,
    async stop() {
      await api.stop();
      destroyAwsClients(clients);
    },
  };
}
