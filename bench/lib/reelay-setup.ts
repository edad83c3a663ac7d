import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../core/aws.ts';
import { loadConfig, type Config } from '../../core/config/index.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';
import { provision } from '../../infra/provision.ts';
import type { Cleanup } from './cleanup.ts';

/** The API key of this run: the API needs `Authorization: Bearer <key>` on every route but /healthz. */
export const BENCH_API_KEY = randomBytes(24).toString('hex');
/** REELAY_SECRETS_KEY of this run: webhook signing secrets are sealed with it, as in a keyed deployment. */
export const BENCH_SECRETS_KEY = randomBytes(32).toString('hex');

/** A resource prefix no other run shares, e.g. `bench-transcode-m3x9k2-a1b2c3`. */
export function uniquePrefix(label: string): string {
  return `bench-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * The environment of a role in the bench: reelay's own variables (so every
 * default is the production one, and REELAY_* settings such as
 * REELAY_X264_PRESET still apply), pointed at the bench's emulator and
 * prefix, with the bench's API key.
 */
export function benchEnv(endpoint: string, prefix: string, overrides: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: endpoint,
    REELAY_PREFIX: prefix,
    REELAY_API_KEYS: BENCH_API_KEY,
    REELAY_SECRETS_KEY: BENCH_SECRETS_KEY,
    REELAY_WORKER_METRICS_PORT: '0',
    ...overrides,
  };
}

/** reelay's configuration as a role in the bench parses it (see `benchEnv`). */
export function benchConfig(endpoint: string, prefix: string, overrides: Record<string, string> = {}): Config {
  return loadConfig(benchEnv(endpoint, prefix, overrides));
}

/** Warnings and errors of the in-process roles, on stderr so stdout stays the report. */
export function benchLogger(role: string): Logger {
  return pino({ level: process.env.REELAY_LOG_LEVEL ?? 'warn', base: { role } }, pino.destination(2));
}

/**
 * AWS clients for `config`, with every resource provisioned; the clients are
 * destroyed by `cleanup`. The SDK's own log goes nowhere: it reports expected
 * errors (a queue that provisioning is about to create) at error level.
 */
export async function provisionedClients(cleanup: Cleanup, config: Config, logger: Logger): Promise<AwsClients> {
  const clients = createAwsClients(config.aws, silentLogger());
  cleanup.defer('destroy AWS clients', () => destroyAwsClients(clients));
  await provision(
    clients,
    {
      prefix: config.prefix,
      region: config.aws.region,
      visibilityTimeoutSeconds: config.worker.visibilityTimeoutMs / 1000,
      maxAttempts: config.worker.maxAttempts,
    },
    logger,
  );
  return clients;
}
