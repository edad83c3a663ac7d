import { parseArgs } from 'node:util';
import { createAwsClients, destroyAwsClients } from '../../core/aws.ts';
import { isPriorityTier, PRIORITY_TIERS, resolveResources, type PriorityTier } from '../../core/resources.ts';
import { runRole } from '../../core/run-role.ts';
import { StatusStore } from '../../core/status-store.ts';
import { describeSkip, redriveDlq, type RedriveResult, type SkipReason } from './redrive.ts';

const USAGE = `usage: npm run redrive -- [high|normal|low …] [--code CODE[,CODE]] [--video ID[,ID]] [--include-permanent] [--dry-run]
  Moves the jobs in the tiers' dead-letter queues (all tiers by default) back to their queues, once each,
  prints a summary and exits. Videos that failed permanently (bad input) stay unless --include-permanent.`;

function usage(problem: string): never {
  process.stderr.write(`reelay redrive: ${problem}\n${USAGE}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      code: { type: 'string', multiple: true },
      video: { type: 'string', multiple: true },
      'include-permanent': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (err) {
  usage((err as Error).message);
}
if (args.values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const badTiers = args.positionals.filter((t) => !isPriorityTier(t));
if (badTiers.length > 0) usage(`unknown tier ${badTiers.join(', ')}: expected ${PRIORITY_TIERS.join(', ')}`);
const list = (values: string[] | undefined) =>
  values
    ? values
        .flatMap((v) => v.split(','))
        .map((v) => v.trim())
        .filter(Boolean)
    : undefined;
const filter = {
  codes: list(args.values.code),
  videoIds: list(args.values.video),
  includePermanent: args.values['include-permanent'],
  dryRun: args.values['dry-run'],
};
const tiers: readonly PriorityTier[] = args.positionals.length > 0 ? args.positionals.filter(isPriorityTier) : PRIORITY_TIERS;

/** `npm run redrive -- …`: see USAGE. Ends with one summary; exit 0 also when nothing was moved. */
await runRole('redrive', async ({ config, logger }) => {
  const clients = createAwsClients(config.aws, logger);
  const resources = await resolveResources(clients, config.prefix);
  const store = new StatusStore(clients.s3, resources.names.mediaBucket);
  const results: Array<[PriorityTier, RedriveResult]> = [];
  for (const tier of tiers) {
    const result = await redriveDlq({
      sqs: clients.sqs,
      store,
      dlqUrl: resources.tierDlqUrl[tier],
      queueUrl: resources.tierQueueUrl[tier],
      logger: logger.child({ tier }),
      filter,
    });
    results.push([tier, result]);
    logger.info(
      {
        tier,
        snapshot: result.snapshot,
        moved: result.moved.length,
        skipped: result.skipped.length,
        arrivedLater: result.arrivedLater,
        dryRun: filter.dryRun,
      },
      'dead-letter queue redriven',
    );
  }
  destroyAwsClients(clients);
  process.stdout.write(summary(results, filter.dryRun));
  process.exit(0);
});

function summary(results: Array<[PriorityTier, RedriveResult]>, dryRun: boolean): string {
  const lines: string[] = [];
  const totals = { moved: 0, skipped: 0, later: 0 };
  for (const [tier, r] of results) {
    totals.moved += r.moved.length;
    totals.skipped += r.skipped.length;
    totals.later += r.arrivedLater;
    if (r.snapshot === 0 && r.arrivedLater === 0) continue;
    lines.push(`${tier}: ${r.snapshot} in the dead-letter queue at the start`);
    for (const id of r.moved) lines.push(`  ${dryRun ? 'would move' : 'moved'}  ${id}`);
    const byReason = new Map<SkipReason, string[]>();
    for (const s of r.skipped)
      byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.videoId ? `${s.videoId}${s.code ? ` (${s.code})` : ''}` : s.messageId]);
    for (const [reason, ids] of byReason) lines.push(`  skipped ${ids.length}: ${describeSkip(reason)}: ${ids.join(', ')}`);
    if (r.arrivedLater > 0) lines.push(`  left ${r.arrivedLater} that reached the dead-letter queue after the start`);
  }
  lines.push(
    `redrive${dryRun ? ' (dry run)' : ''}: ${dryRun ? 'would move' : 'moved'} ${totals.moved}, skipped ${totals.skipped}` +
      (totals.later > 0 ? `, left ${totals.later} newer` : ''),
  );
  return `${lines.join('\n')}\n`;
}
