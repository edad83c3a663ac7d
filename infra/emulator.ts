import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { startFauxqs } from 'fauxqs';

export interface RunningEmulator {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** True when nothing listens on 127.0.0.1:port. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * The embedded AWS emulator (fauxqs: S3 + SQS + SNS on one port). Queues,
 * topics and messages persist in SQLite under `<dataDir>/state`, S3 objects as
 * plain files under `<dataDir>/s3`, so a restart keeps every video and job.
 */
export async function startEmulator({ port, dataDir }: { port: number; dataDir: string }): Promise<RunningEmulator> {
  if (port !== 0 && !(await portIsFree(port))) {
    throw new Error(
      `port ${port} is already in use (LocalStack or another reelay?). Stop it, set REELAY_EMULATOR_PORT, or point AWS_ENDPOINT_URL at it to use it instead`,
    );
  }
  const stateDir = path.join(dataDir, 'state');
  const s3Dir = path.join(dataDir, 's3');
  await mkdir(stateDir, { recursive: true });
  await mkdir(s3Dir, { recursive: true });
  const server = await startFauxqs({ port, logger: false, dataDir: stateDir, s3StorageDir: s3Dir });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    port: server.port,
    stop: () => server.stop(),
  };
}
