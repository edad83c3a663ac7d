import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startApi } from '../../api/start-api.ts';
import { createAwsClients, destroyAwsClients } from '../../core/aws.ts';
import { loadConfig } from '../../core/config/index.ts';
import type { Logger } from '../../core/logger.ts';
import { resolveResources } from '../../core/resources.ts';
import { startEmulator } from '../../infra/emulator.ts';
import { provision, provisionSettings } from '../../infra/provision.ts';
import { createTranscodeWorker } from '../../workers/transcode/create-worker.ts';
import { locateFfmpeg, type FfmpegBinaries } from '../../core/ffmpeg/locate.ts';

export interface EmbeddedStack {
  baseUrl: string;
  binaries: FfmpegBinaries;
  stop(): Promise<void>;
}

/**
 * The real pipeline in this process: the embedded emulator on a free loopback port, a fresh
 * resource prefix, the API and a transcode worker wired as in production (the process's own
 * REELAY_* / FFMPEG_PATH settings apply). Nothing outlives `stop()`.
 */
export async function startEmbeddedStack(logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<EmbeddedStack> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'reelay-conformance-'));
  const emulator = await startEmulator({ port: 0, dataDir });
  const prefix = `conf-${randomBytes(3).toString('hex')}`;
  const config = loadConfig({
    // Two jobs at a time: a long file does not hold up the short ones behind it.
    REELAY_WORKER_CONCURRENCY: '2',
    // A tool run in the foreground: ffmpeg at normal priority (a worker's default, 10, yields to everything).
    REELAY_FFMPEG_NICENESS: '0',
    ...env,
    AWS_ENDPOINT_URL: emulator.endpoint,
    REELAY_PREFIX: prefix,
    REELAY_POLL_WAIT_SECONDS: '1',
    REELAY_UPLOAD_RATE_PER_MINUTE: '0',
    REELAY_AUTH: 'none',
    REELAY_API_KEYS: '',
    HOST: '127.0.0.1',
    PORT: '0',
  });
  const clients = createAwsClients(config.aws, logger);
  await provision(clients, provisionSettings(config), logger);
  const resources = await resolveResources(clients, prefix);
  const binaries = locateFfmpeg(config.ffmpeg);
  const api = await startApi({ config, clients, resources, logger, listen: { host: '127.0.0.1', port: 0 } });
  const worker = createTranscodeWorker({ config, clients, resources, binaries, workerId: 'conformance', logger }).start();
  return {
    baseUrl: api.url,
    binaries,
    async stop() {
      await worker.stop({ graceMs: 5000 });
      await api.stop();
      destroyAwsClients(clients);
      await emulator.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
