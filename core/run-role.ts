import { loadConfigOrExit, type Config } from './config/index.ts';
import { createLogger, type Logger } from './logger.ts';
import { ResourcesMissingError } from './resources.ts';

/** Where a role's AWS calls go, for its first log line; without AWS_ENDPOINT_URL, where the local stack would be. */
export function describeEndpoint(config: Pick<Config, 'aws' | 'emulatorPort'>): string {
  return config.aws.endpoint ?? `AWS (no AWS_ENDPOINT_URL; the local stack is http://localhost:${config.emulatorPort})`;
}

export interface RunningRole {
  /** Ordered, idempotent clean-up; resolves when the role has let go of everything. */
  stop(): Promise<void>;
}

/** How long a role asked to stop while starting may take to finish starting before it exits regardless. */
const STOP_WHILE_STARTING_TIMEOUT_MS = 30_000;

/**
 * Entry point of every process (api, worker, notifier, …): parse the
 * configuration once (a bad value stops start-up naming the variable), start
 * the role, and stop it on SIGTERM/SIGINT within `shutdownTimeoutMs`. A
 * signal that comes while starting is acted on once started (a second one
 * exits at once), so nothing start-up made (temp files, ports) is left behind.
 */
export async function runRole(
  role: string,
  start: (ctx: { config: Config; logger: Logger }) => Promise<RunningRole>,
  { shutdownTimeoutMs = 60_000 }: { shutdownTimeoutMs?: number } = {},
): Promise<void> {
  const config = loadConfigOrExit(`reelay ${role}`);
  const logger = createLogger(role, config.log);
  // Say where the AWS calls go: a command run without AWS_ENDPOINT_URL talks to real AWS.
  logger.info({ endpoint: describeEndpoint(config), region: config.aws.region, prefix: config.prefix }, 'aws endpoint');

  let running: RunningRole | undefined;
  let stopping = false;
  /** A signal, or the parent going away, while starting: acted on once started, so what start-up made is released. */
  let stopWhenStarted: string | undefined;
  const shutdown = (signal: string) => {
    if (stopping) return;
    if (!running) {
      if (stopWhenStarted) {
        logger.warn({ signal }, `${role} asked again to stop while starting; exiting now`);
        process.exit(1);
      }
      stopWhenStarted = signal;
      logger.info({ signal }, `${role} asked to stop while starting; stopping once started`);
      const startTimeoutMs = Math.min(shutdownTimeoutMs, STOP_WHILE_STARTING_TIMEOUT_MS);
      setTimeout(() => {
        logger.error({ startTimeoutMs }, `${role} did not finish starting in time to stop; exiting`);
        process.exit(1);
      }, startTimeoutMs).unref();
      return;
    }
    stopping = true;
    logger.info({ signal }, `${role} shutting down`);
    const deadline = setTimeout(() => {
      logger.error({ shutdownTimeoutMs }, `${role} did not stop in time; exiting`);
      process.exit(1);
    }, shutdownTimeoutMs);
    deadline.unref();
    running.stop().then(
      () => {
        clearTimeout(deadline);
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, `${role} stopped with an error`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // Started with an IPC channel (by the dev stack, or a worker by the supervisor): when that parent goes away,
  // even SIGKILLed, stop gracefully instead of running on unmanaged in a session of its own.
  if (process.channel) process.once('disconnect', () => shutdown('parent gone'));

  try {
    running = await start({ config, logger });
  } catch (err) {
    // The usual cause beside `npm start`: a command run without the endpoint talked to real AWS.
    const hint =
      err instanceof ResourcesMissingError && !config.aws.endpoint
        ? `: no AWS_ENDPOINT_URL is set, so this talked to AWS. For the local stack of \`npm start\`, set AWS_ENDPOINT_URL=http://localhost:${config.emulatorPort}; on AWS, run \`npm run provision\` first`
        : '';
    logger.fatal({ err }, `${role} failed to start${hint}`);
    process.exit(1);
  }
  if (stopWhenStarted) shutdown(stopWhenStarted);
}
