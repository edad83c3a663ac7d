import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../../core/config/index.ts';
import { cloudScaling, ecsScalingTemplate, kedaManifests } from './generate.ts';

const USAGE = `usage: npm run cloud:render -- keda --account <12-digit id> [--namespace reelay] [--deployment reelay-worker] [--role-arn <arn>]
       npm run cloud:render -- ecs [--cluster reelay] [--service reelay-worker]
Prints JSON (valid YAML) for kubectl apply -f - or a CloudFormation stack. The numbers come from the same
variables as the local supervisor: REELAY_PREFIX, AWS_REGION, REELAY_WORKERS_MIN/MAX, REELAY_JOBS_PER_WORKER,
REELAY_SUPERVISOR_POLL_SECONDS, REELAY_SCALE_DOWN_COOLDOWN_SECONDS.`;

function fail(message: string, { usage = true } = {}): never {
  process.stderr.write(`reelay cloud:render: ${message}\n${usage ? `${USAGE}\n` : ''}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      account: { type: 'string' },
      namespace: { type: 'string', default: 'reelay' },
      deployment: { type: 'string', default: 'reelay-worker' },
      'role-arn': { type: 'string' },
      cluster: { type: 'string', default: 'reelay' },
      service: { type: 'string', default: 'reelay-worker' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (err) {
  fail((err as Error).message);
}
const { values, positionals } = args;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const config = loadConfigOrExit('reelay cloud:render');
const scaling = cloudScaling(config.supervisor, { prefix: config.prefix, region: config.aws.region });

const target = positionals[0];
let output: Record<string, unknown>;
if (target === 'keda') {
  if (!values.account || !/^\d{12}$/.test(values.account)) fail('keda needs --account: the 12-digit AWS account id that owns the queues');
  output = kedaManifests(scaling, {
    accountId: values.account,
    namespace: values.namespace,
    deployment: values.deployment,
    ...(values['role-arn'] ? { roleArn: values['role-arn'] } : {}),
  });
} else if (target === 'ecs') {
  try {
    output = ecsScalingTemplate(scaling, { cluster: values.cluster, service: values.service });
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    fail(err.message, { usage: false });
  }
} else {
  fail(target ? `unknown target "${target}": expected keda or ecs` : 'say which definitions: keda or ecs');
}
process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
