import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../testkit/free-port.ts';
import { ownChild } from './child-process.ts';
import type { Cleanup } from './cleanup.ts';

const API_MAIN = fileURLToPath(new URL('../../api/main.ts', import.meta.url));

export interface ApiProcess {
  url: string;
  pid: number;
}

/**
 * `node api/main.ts` as its own process, exactly as production runs it, with
 * `env` (see benchEnv) and its logs on stderr; resolves once GET /healthz
 * answers. Stopped by `cleanup`.
 */
export async function startApiProcess(
  cleanup: Cleanup,
  { env, startTimeoutMs = 30_000 }: { env: Record<string, string | undefined>; startTimeoutMs?: number },
): Promise<ApiProcess> {
  const port = await freePort();
  const child = ownChild(
    cleanup,
    spawn(process.execPath, ['--disable-warning=ExperimentalWarning', API_MAIN], {
      env: { REELAY_LOG_LEVEL: 'warn', ...env, HOST: '127.0.0.1', PORT: String(port) },
      stdio: ['ignore', 2, 2],
    }),
    'the API process',
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + startTimeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the API process exited during start-up (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    const healthy = await fetch(`${url}/healthz`).then(
      (res) => res.ok,
      () => false,
    );
    if (healthy) return { url, pid: child.pid! };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the API process did not answer /healthz within ${startTimeoutMs / 1000} s`);
}
