import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestStack } from './stack.ts';

const root = path.resolve(import.meta.dirname, '../..');

export interface RoleProcess {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output: () => string;
  exited: Promise<number | null>;
}

/** A role's entry point (`workers/notifier/main.ts`, …) as its own process, against a test stack's emulator and resources. */
export function spawnRole(stack: TestStack, script: string, env: Record<string, string>): RoleProcess {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(root, script)], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ENDPOINT_URL: stack.config.aws.endpoint,
      REELAY_PREFIX: stack.config.prefix,
      REELAY_POLL_WAIT_SECONDS: '1',
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

/** `workers/transcode/main.ts` as its own process (ffmpeg at nice 0, metrics on any free port). */
export function spawnWorker(stack: TestStack, env: Record<string, string>): RoleProcess {
  return spawnRole(stack, 'workers/transcode/main.ts', { REELAY_FFMPEG_NICENESS: '0', REELAY_WORKER_METRICS_PORT: '0', ...env });
}
