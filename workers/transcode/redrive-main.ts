import { createAwsClients, destroyAwsClients } from '../../core/aws.ts';
import { isPriorityTier, PRIORITY_TIERS, resolveResources } from '../../core/resources.ts';
import { runRole } from '../../core/run-role.ts';
import { StatusStore } from '../../core/status-store.ts';
import { redriveDlq } from './redrive.ts';

/** `npm run redrive -- [high|normal|low …]`: move dead-lettered jobs back (all tiers by default). */
await runRole('redrive', async ({ config, logger }) => {
  const tiers = process.argv.slice(2);
  const bad = tiers.filter((t) => !isPriorityTier(t));
  if (bad.length > 0) {
    logger.fatal(`unknown tier ${bad.join(', ')}: expected ${PRIORITY_TIERS.join(', ')}`);
    process.exit(2);
  }
  const clients = createAwsClients(config.aws, logger);
  const resources = await resolveResources(clients, config.prefix);
  const store = new StatusStore(clients.s3, resources.names.mediaBucket);
  for (const tier of tiers.length > 0 ? tiers.filter(isPriorityTier) : PRIORITY_TIERS) {
    const result = await redriveDlq({
      sqs: clients.sqs,
      store,
      dlqUrl: resources.tierDlqUrl[tier],
      queueUrl: resources.tierQueueUrl[tier],
      logger: logger.child({ tier }),
    });
    logger.info({ tier, moved: result.moved.length, skipped: result.skipped }, 'dead-letter queue redriven');
  }
  destroyAwsClients(clients);
  process.exit(0);
});
