import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../infra/emulator.ts';
import { exited, ownChild } from './child-process.ts';
import type { Cleanup } from './cleanup.ts';
import { makeTempDir } from './temp-dir.ts';

export interface BenchEmulator {
  endpoint: string;
  /** The emulator's process: this one when embedded. */
  pid: number;
}

/** fauxqs in this process on a free port, with a temp data dir; both go with `cleanup`. */
export async function startEmbeddedEmulator(cleanup: Cleanup): Promise<BenchEmulator> {
  const dataDir = await makeTempDir(cleanup, 'emulator');
  const emulator = await startEmulator({ port: 0, dataDir });
  cleanup.defer('stop the embedded emulator', () => emulator.stop());
  return { endpoint: emulator.endpoint, pid: process.pid };
}

const EMULATOR_PROCESS = fileURLToPath(new URL('./emulator-process.ts', import.meta.url));

/** fauxqs in a child process of its own on a free port, with a temp data dir; both go with `cleanup`. */
export async function startEmulatorProcess(cleanup: Cleanup, { startTimeoutMs = 30_000 } = {}): Promise<BenchEmulator> {
  const dataDir = await makeTempDir(cleanup, 'emulator');
  const child = ownChild(
    cleanup,
    fork(EMULATOR_PROCESS, [dataDir], {
      execArgv: ['--disable-warning=ExperimentalWarning'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
    'the emulator process',
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the emulator process did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
    child.once('message', (message: { endpoint?: unknown }) => {
      clearTimeout(timer);
      if (typeof message.endpoint === 'string') resolve(message.endpoint);
      else reject(new Error(`unexpected message from the emulator process: ${JSON.stringify(message)}`));
    });
    void exited(child).then(() => {
      clearTimeout(timer);
      reject(new Error(`the emulator process exited during start-up (code ${child.exitCode}, signal ${child.signalCode})`));
    });
  });
  return { endpoint, pid: child.pid! };
}
