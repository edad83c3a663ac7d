import { fileURLToPath } from 'node:url';
import { createAwsClients, destroyAwsClients } from '../../core/aws.ts';
import { resolveResources } from '../../core/resources.ts';
import { runRole } from '../../core/run-role.ts';
import { sqsDepthSource } from './queue-depth.ts';
import { childEnvironment, METRICS_PORTS, workerStopTimeoutMs } from '../../core/config/index.ts';
import { Supervisor } from './supervisor.ts';

/** `npm run supervisor`: scales transcode worker processes with the tier queues' depth (what `npm start` runs). */
await runRole(
  'supervisor',
  async ({ config, logger }) => {
    const clients = createAwsClients(config.aws, logger);
    const resources = await resolveResources(clients, config.prefix);
    const supervisor = await new Supervisor({
      settings: config.supervisor,
      host: config.metrics.host,
      depth: sqsDepthSource(clients.sqs, resources.tierQueueUrl),
      // Workers inherit the environment (same endpoint, prefix and worker settings) and log to the same stdout.
      worker: {
        script: fileURLToPath(new URL('../transcode/main.ts', import.meta.url)),
        execArgv: ['--disable-warning=ExperimentalWarning'],
        // Many workers on one host: each serves /metrics on a free port (logged) unless REELAY_WORKER_METRICS_PORT says otherwise.
        env: childEnvironment({ [METRICS_PORTS.worker.variable]: '0' }),
      },
      workerStopTimeoutMs: workerStopTimeoutMs(config.worker),
      logger,
    }).start();
    return {
      async stop() {
        await supervisor.stop();
        destroyAwsClients(clients);
      },
    };
  },
  // Only a backstop: the supervisor bounds its own stop (workers are killed after workerStopTimeoutMs).
  { shutdownTimeoutMs: 15 * 60_000 },
);
