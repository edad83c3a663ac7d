import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { exited, ownChild } from './child-process.ts';
import { parseWorkerMessage } from '../../core/worker-ipc.ts';
import type { Cleanup } from './cleanup.ts';
import { benchEnv } from './reelay-setup.ts';

/** The worker's entry point, as `npm run worker` and the supervisor start it. */
export const WORKER_MAIN = fileURLToPath(new URL('../../workers/transcode/main.ts', import.meta.url));
export const WORKER_EXEC_ARGV = ['--disable-warning=ExperimentalWarning'];
/** Workers log on stdout; in the bench that goes to stderr, so stdout stays the report. */
export const WORKER_STDIO: ['ignore', number, number, 'ipc'] = ['ignore', 2, 2, 'ipc'];
/** As the in-process worker of the transcode benchmark: a long poll returns the moment a job arrives; its length only bounds a worker's stop. */
export const WORKER_POLL_WAIT_SECONDS = 2;

/** The environment of a worker process in the bench (see benchEnv): 2 s long polls, and warnings only unless REELAY_LOG_LEVEL says otherwise. */
export function benchWorkerEnv(endpoint: string, prefix: string): Record<string, string | undefined> {
  return { REELAY_LOG_LEVEL: 'warn', ...benchEnv(endpoint, prefix, { REELAY_POLL_WAIT_SECONDS: String(WORKER_POLL_WAIT_SECONDS) }) };
}

/** A line of the worker's debug log, as the bench reads it. */
export interface WorkerLogLine {
  /** Epoch ms. */
  time: number;
  level: string;
  msg: string;
  tier?: string;
  messageId?: string;
}

export interface WorkerProcess {
  pid: number;
  child: ChildProcess;
  /** Resolves with the epoch ms of the next time the worker reports a job in hand (busy 0 → 1) after this call. */
  nextJobStart(): Promise<number>;
  /** The worker's log lines so far (only with `readLog`). */
  readonly log: readonly WorkerLogLine[];
}

/**
 * `node workers/transcode/main.ts` as its own process, forked with an IPC
 * channel as the supervisor forks it, so it reports its number of jobs in hand;
 * resolves once it has reported the first time (polling). With `readLog` it
 * logs at debug level into a pipe the bench reads (each receive and hand-back
 * of the tier poller), echoing warnings and errors to stderr. Stopped by `cleanup`.
 */
export async function startWorkerProcess(
  cleanup: Cleanup,
  {
    env,
    readLog = false,
    startTimeoutMs = 30_000,
  }: { env: Record<string, string | undefined>; readLog?: boolean; startTimeoutMs?: number },
): Promise<WorkerProcess> {
  const child = ownChild(
    cleanup,
    fork(WORKER_MAIN, [], {
      execArgv: WORKER_EXEC_ARGV,
      env: readLog ? { ...env, REELAY_LOG_LEVEL: 'debug' } : env,
      stdio: readLog ? ['ignore', 'pipe', 2, 'ipc'] : WORKER_STDIO,
    }),
    'a worker process',
  );
  const log: WorkerLogLine[] = [];
  if (readLog) {
    const echoLevel = pino.levels.values[env.REELAY_LOG_LEVEL ?? 'warn'] ?? pino.levels.values.warn!;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = parseLine(line);
      if (parsed) log.push(parsed);
      if ((pino.levels.values[parsed?.level ?? 'fatal'] ?? Infinity) >= echoLevel) process.stderr.write(`${line}\n`);
    });
  }
  let busy = 0;
  let waiters: ((at: number) => void)[] = [];
  const reported = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the worker process did not report within ${startTimeoutMs / 1000} s`)),
      startTimeoutMs,
    );
    child.on('message', (raw) => {
      const message = parseWorkerMessage(raw);
      if (message?.type !== 'reelay.worker.state') return;
      clearTimeout(timer);
      resolve();
      const at = Date.now();
      if (busy === 0 && message.busy > 0) {
        for (const waiter of waiters) waiter(at);
        waiters = [];
      }
      busy = message.busy;
    });
    void exited(child).then(() => {
      clearTimeout(timer);
      reject(new Error(`the worker process exited (code ${child.exitCode}, signal ${child.signalCode})`));
    });
  });
  await reported;
  return {
    pid: child.pid!,
    child,
    nextJobStart: () => new Promise((resolve) => waiters.push(resolve)),
    log,
  };
}

function parseLine(line: string): WorkerLogLine | undefined {
  try {
    const { time, level, msg, tier, messageId } = JSON.parse(line) as Record<string, unknown>;
    const epoch = typeof time === 'number' ? time : Date.parse(String(time));
    if (!Number.isFinite(epoch) || typeof msg !== 'string') return undefined;
    return {
      time: epoch,
      level: String(level),
      msg,
      ...(typeof tier === 'string' ? { tier } : {}),
      ...(typeof messageId === 'string' ? { messageId } : {}),
    };
  } catch {
    return undefined;
  }
}
