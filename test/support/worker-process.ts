import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestStack } from './stack.ts';

const root = path.resolve(import.meta.dirname, '../..');

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `workers/transcode/main.ts` as its own process, against a test stack's emulator and resources. */
export function spawnWorker(stack: TestStack, env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(root, 'workers/transcode/main.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ENDPOINT_URL: stack.config.aws.endpoint,
      REELAY_PREFIX: stack.config.prefix,
      REELAY_POLL_WAIT_SECONDS: '1',
      REELAY_FFMPEG_NICENESS: '0',
      REELAY_WORKER_METRICS_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}
