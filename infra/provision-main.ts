import { createAwsClients, destroyAwsClients } from '../core/aws.ts';
import { runRole } from '../core/run-role.ts';
import { provision, provisionSettings } from './provision.ts';

/** `npm run provision`: create or converge every bucket, queue, topic and subscription, then exit. */
await runRole('provision', async ({ config, logger }) => {
  const clients = createAwsClients(config.aws, logger);
  const report = await provision(clients, provisionSettings(config), logger);
  logger.info(report, 'provisioning done');
  destroyAwsClients(clients);
  process.exit(0);
});
