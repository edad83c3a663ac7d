import { createAwsClients, destroyAwsClients } from '../core/aws.ts';
import { resolveResources } from '../core/resources.ts';
import { runRole } from '../core/run-role.ts';
import { startApi } from './start-api.ts';

await runRole('api', async ({ config, logger }) => {
  if (config.api.auth.mode === 'unconfigured') {
    throw new Error('no API keys: set REELAY_API_KEYS (or REELAY_API_KEYS_FILE), or REELAY_AUTH=none to run the API open on purpose');
  }
  if (config.api.auth.mode === 'none') logger.warn({ host: config.api.host }, 'REELAY_AUTH=none: the API accepts requests without a key');
  if (!config.secretsKey && config.api.auth.mode === 'keys')
    logger.warn(
      'REELAY_SECRETS_KEY is not set: registering a webhook answers 503 until it is (signing secrets are stored encrypted with it)',
    );
  else if (!config.secretsKey) logger.warn('REELAY_SECRETS_KEY is not set: webhook signing secrets are stored unencrypted (no API keys)');
  const clients = createAwsClients(config.aws, logger);
  const resources = await resolveResources(clients, config.prefix);
  const api = await startApi({ config, clients, resources, logger });
  logger.info({ url: api.url, endpoint: config.aws.endpoint ?? 'aws', auth: config.api.auth.mode }, 'api listening');

  return {
    async stop() {
      await api.stop();
      destroyAwsClients(clients);
    },
  };
});
