import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startApi } from '../../api/start-api.ts';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../core/aws.ts';
import { loadConfig, type Config } from '../../core/config/index.ts';
import { createLogger, silentLogger, type Logger } from '../../core/logger.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import { queueUrl, resolveResources, type ResolvedResources } from '../../core/resources.ts';
import { StatusStore } from '../../core/status-store.ts';
import { startEmulator, type RunningEmulator } from '../../infra/emulator.ts';
import { provision, provisionSettings } from '../../infra/provision.ts';
import { Notifier } from '../../workers/notifier/notifier.ts';
import { QueueConsumer } from '../../core/queue-consumer.ts';
import { locateFfmpeg, type FfmpegBinaries } from '../../core/ffmpeg/locate.ts';
import { startTestEmulator, timeScale } from './test-emulator.ts';
import { createTranscodeWorker } from '../../workers/transcode/create-worker.ts';
import { waitForDrained } from './queue-drained.ts';
import type { TranscodeWorker } from '../../workers/transcode/worker.ts';

/**
 * The real roles wired in-process against a real emulator, with a unique
 * resource prefix and data dir per stack. Nothing is mocked.
 */
export interface TestStack {
  config: Config;
  clients: AwsClients;
  resources: ResolvedResources;
  store: StatusStore;
  baseUrl: string;
  notifier: Notifier;
  /** Resolves when every event published so far is in `notifier.recent` (see waitForDrained for when that holds). */
  notifierDrained(): Promise<void>;
  worker: TranscodeWorker | undefined;
  binaries: FfmpegBinaries;
  dataDir: string;
  /** Stops the emulator and starts it again on the same port and data (an outage of `downMs`), as a host restart would. */
  restartEmulator(opts?: { downMs?: number }): Promise<void>;
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export function uniquePrefix(label: string): string {
  return `t${label}-${randomBytes(3).toString('hex')}`.toLowerCase();
}

export async function startTestStack({
  env = {},
  withWorker = true,
  withNotifier = true,
  dataDir,
  prefix = uniquePrefix('s'),
}: {
  env?: Record<string, string>;
  withWorker?: boolean;
  /** false: nothing consumes the notifier queue (a test runs the notifier process itself). */
  withNotifier?: boolean;
  dataDir?: string;
  prefix?: string;
} = {}): Promise<TestStack> {
  const dir = dataDir ?? (await mkdtemp(path.join(tmpdir(), 'reelay-test-')));
  let emulator: RunningEmulator = await startTestEmulator(dir);
  const config = loadConfig({
    AWS_ENDPOINT_URL: emulator.endpoint,
    REELAY_PREFIX: prefix,
    REELAY_POLL_WAIT_SECONDS: '1',
    REELAY_RETRY_BASE_SECONDS: '1',
    REELAY_WORKER_CONCURRENCY: '2',
    // Tests upload in bursts; the rate limit has its own test.
    REELAY_UPLOAD_RATE_PER_MINUTE: '0',
    REELAY_MAX_CONCURRENT_UPLOADS: '0',
    REELAY_CHANNEL_RATE_PER_MINUTE: '0',
    // Sealing on, as a deployment with API keys should run; a fresh key per stack.
    REELAY_SECRETS_KEY: randomBytes(32).toString('hex'),
    PORT: '0',
    // Scoped tokens on, as in any deployment with keys.
    REELAY_TOKEN_SECRET: 'test-token-secret-0123456789abcdef0123456789',
    // Where ffmpeg is looked for (config.ffmpeg.searchPath): the system's, as the roles find it.
    PATH: process.env.PATH,
    ...env,
  });
  // REELAY_TEST_LOG=debug shows every role's log lines while a test runs.
  const logger = process.env.REELAY_TEST_LOG ? createLogger('test', { level: process.env.REELAY_TEST_LOG }) : silentLogger();
  const clients = createAwsClients(config.aws, logger);
  await provision(clients, provisionSettings(config), logger);
  const resources = await resolveResources(clients, prefix);
  const store = new StatusStore(clients.s3, resources.names.mediaBucket);
  const binaries = locateFfmpeg(config.ffmpeg);

  const api = await startApi({ config, clients, resources, logger, listen: { host: '127.0.0.1', port: 0 } });
  const baseUrl = api.url;

  const notifier = new Notifier({ logger });
  const notifierQueueUrl = await queueUrl(clients.sqs, resources.names.notifierQueue);
  const consumer = withNotifier
    ? new QueueConsumer({
        sqs: clients.sqs,
        queueUrl: notifierQueueUrl,
        handle: notifier.handle,
        waitSeconds: 1,
        logger,
      }).start()
    : undefined;

  const base = { config, clients, resources, binaries, logger };
  const worker = withWorker ? startTestWorker(base) : undefined;

  return {
    config,
    clients,
    resources,
    store,
    baseUrl,
    notifier,
    notifierDrained: () => waitForDrained(clients.sqs, notifierQueueUrl),
    worker,
    binaries,
    dataDir: dir,
    async restartEmulator({ downMs = 2000 } = {}) {
      await emulator.stop();
      await new Promise((r) => setTimeout(r, downMs));
      emulator = await startEmulator({ port: emulator.port, dataDir: dir });
    },
    async stop({ keepData = false } = {}) {
      await worker?.stop({ graceMs: 5000 });
      await consumer?.stop();
      await api.stop();
      destroyAwsClients(clients);
      await emulator.stop();
      if (!keepData) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls the API until the video leaves queued/processing (or the timeout passes). */
export async function waitForFinalStatus(
  baseUrl: string,
  id: string,
  timeoutMs = 45_000 * timeScale,
  headers: Record<string, string> = {},
): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${baseUrl}/v1/videos/${id}`, { headers });
    const body = (await res.json()) as Record<string, any>;
    if (body.status === 'ready' || body.status === 'failed') return body;
    if (Date.now() > deadline) throw new Error(`video ${id} still ${body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000 * timeScale,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface WorkerOverrides {
  /** An S3 client for the worker only (e.g. with injected faults). */
  s3?: S3Client;
  /** An SNS client for the worker only (e.g. with injected faults). */
  sns?: SNSClient;
  concurrency?: number;
  maxAttempts?: number;
  preset?: string;
  workerId?: string;
  jobTimeoutFactor?: number;
  jobTimeoutMinMs?: number;
}

/** A TranscodeWorker wired like workers/transcode/main.ts, against the stack's resources. */
export function startTestWorker(
  stack: Pick<TestStack, 'config' | 'clients' | 'resources' | 'binaries'> & { logger?: Logger },
  overrides: WorkerOverrides = {},
): TranscodeWorker {
  const { config, clients, resources, binaries } = stack;
  // Tests run ffmpeg fast and unprioritised unless they say otherwise.
  const workerConfig: Config = {
    ...config,
    worker: {
      ...config.worker,
      concurrency: overrides.concurrency ?? config.worker.concurrency,
      maxAttempts: overrides.maxAttempts ?? config.worker.maxAttempts,
      jobTimeoutFactor: overrides.jobTimeoutFactor ?? config.worker.jobTimeoutFactor,
      jobTimeoutMinMs: overrides.jobTimeoutMinMs ?? config.worker.jobTimeoutMinMs,
    },
    ffmpeg: { ...config.ffmpeg, preset: overrides.preset ?? 'ultrafast', threads: 0, niceness: 0 },
  };
  return createTranscodeWorker({
    config: workerConfig,
    clients: { ...clients, ...(overrides.s3 ? { s3: overrides.s3 } : {}), ...(overrides.sns ? { sns: overrides.sns } : {}) },
    resources,
    binaries,
    workerId: overrides.workerId ?? 'test-worker',
    logger: stack.logger ?? silentLogger(),
  }).start();
}
