import { fork, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Logger } from '../../core/logger.ts';
import { GO, parseWorkerMessage, STANDBY_ARG, type WorkerState } from '../../core/worker-ipc.ts';

export interface WorkerProcess {
  readonly pid: number | undefined;
  readonly startedAt: number;
  /** When it started polling, or was asked to (epoch ms); undefined while it stands by. */
  activeSince: number | undefined;
  /** The last report; undefined until the worker has reported once. */
  state: WorkerState | undefined;
  /** SIGTERM sent by the pool: this worker is on its way out and no longer counts. */
  stopping: boolean;
  /**
   * A standby takes no job until activated: `starting` until it has said it is ready, then `ready`;
   * undefined for a worker that polls.
   */
  standby: 'starting' | 'ready' | undefined;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  livedMs: number;
}

export interface WorkerPoolOptions {
  /** The worker's entry point (workers/transcode/main.ts). */
  script: string;
  execArgv: string[];
  env: NodeJS.ProcessEnv;
  /** Default: the worker writes to the supervisor's stdout/stderr. */
  stdio?: StdioOptions;
  logger: Logger;
  /** A worker exited without being asked to. */
  onUnexpectedExit: (worker: WorkerProcess, exit: WorkerExit) => void;
  /** A worker reported a new state; `first`: its first report (it got going). */
  onStateChange?: (worker: WorkerProcess, first: boolean) => void;
  /** A standby worker is ready to be activated. */
  onStandbyReady?: (worker: WorkerProcess) => void;
}

/**
 * The worker processes: forks them, tracks what each reports over IPC, stops
 * them with SIGTERM (the worker finishes or hands back its job), and notices
 * the ones that die on their own.
 */
export class WorkerPool {
  private readonly opts: WorkerPoolOptions;
  private readonly workers = new Set<WorkerProcess>();
  /** Standbys activated while still starting: told to go as soon as they say they are ready. */
  private readonly goWhenReady = new Set<WorkerProcess>();
  private readonly killAllOnExit = () => {
    for (const worker of this.workers) worker.child.kill('SIGTERM');
  };

  constructor(opts: WorkerPoolOptions) {
    this.opts = opts;
    // Last resort: if the supervisor itself dies (uncaught error, process.exit), its workers are not left behind.
    process.on('exit', this.killAllOnExit);
  }

  /** Workers that count: alive, polling (not standing by) and not being stopped. */
  get running(): WorkerProcess[] {
    return [...this.workers].filter((w) => !w.stopping && w.standby === undefined);
  }

  /** Standby workers, started and not being stopped. */
  get standbys(): WorkerProcess[] {
    return [...this.workers].filter((w) => !w.stopping && w.standby !== undefined);
  }

  /** Busy, or not reported yet: either way not to be stopped. */
  static isBusy(worker: WorkerProcess): boolean {
    return worker.state === undefined || worker.state.busy > 0;
  }

  /**
   * A worker that polls: a standby activated if there is one (a ready one at once, one still starting as
   * soon as it is ready, which is still sooner than a new process), else a new process.
   */
  start(): WorkerProcess {
    const alive = this.standbys.filter((w) => w.child.connected && w.child.exitCode === null && w.child.signalCode === null);
    const standby = alive.find((w) => w.standby === 'ready') ?? alive.find((w) => w.standby === 'starting');
    if (!standby) return this.fork(false);
    const ready = standby.standby === 'ready';
    standby.standby = undefined;
    standby.activeSince = Date.now();
    if (ready) this.go(standby);
    else this.goWhenReady.add(standby);
    this.opts.logger.info({ workerPid: standby.pid, standbyMs: Date.now() - standby.startedAt, ready }, 'standby worker activated');
    return standby;
  }

  /** A worker that gets ready and then waits for `start()` to activate it. */
  startStandby(): WorkerProcess {
    return this.fork(true);
  }

  private go(worker: WorkerProcess): void {
    // A standby that died meanwhile: its exit is handled as any worker's that never reported.
    worker.child.send(GO, (err) => {
      if (err) this.opts.logger.warn({ err, workerPid: worker.pid }, 'could not activate a standby worker');
    });
  }

  private fork(standby: boolean): WorkerProcess {
    const { script, execArgv, env, stdio = ['ignore', 'inherit', 'inherit', 'ipc'], logger } = this.opts;
    // A process group of its own: Ctrl-C on a supervisor run in a terminal reaches the supervisor alone, which
    // stops its workers in order; a worker whose supervisor is gone stops itself (IPC disconnect, core/run-role.ts).
    const child = fork(script, standby ? [STANDBY_ARG] : [], {
      execArgv,
      env,
      stdio,
      detached: true,
    });
    let markExited!: () => void;
    const worker: WorkerProcess = {
      pid: child.pid,
      startedAt: Date.now(),
      activeSince: standby ? undefined : Date.now(),
      state: undefined,
      stopping: false,
      standby: standby ? 'starting' : undefined,
      child,
      exited: new Promise<void>((resolve) => (markExited = resolve)),
    };
    this.workers.add(worker);

    child.on('message', (raw) => {
      const message = parseWorkerMessage(raw);
      if (message?.type === 'reelay.worker.standby') {
        if (this.goWhenReady.delete(worker)) this.go(worker);
        else if (worker.standby === 'starting') {
          worker.standby = 'ready';
          this.opts.onStandbyReady?.(worker);
        }
      } else if (message?.type === 'reelay.worker.state') {
        const first = worker.state === undefined;
        worker.state = { busy: message.busy, concurrency: message.concurrency };
        this.opts.onStateChange?.(worker, first);
      }
    });
    child.on('error', (err) => logger.error({ err, workerPid: child.pid }, 'worker process error'));
    child.once('exit', (code, signal) => {
      this.workers.delete(worker);
      this.goWhenReady.delete(worker);
      markExited();
      const exit = { code, signal, livedMs: Date.now() - worker.startedAt };
      if (worker.stopping) logger.info({ workerPid: child.pid, ...exit }, 'worker stopped');
      else this.opts.onUnexpectedExit(worker, exit);
    });
    logger.info({ workerPid: child.pid, standby }, standby ? 'standby worker started' : 'worker started');
    return worker;
  }

  /**
   * Workers that have not got ready since before `startedBefore` (epoch ms): standbys still `starting`, and
   * standbys activated while starting that never said they were ready. A healthy one is ready in seconds.
   */
  stuckStarting(startedBefore: number): WorkerProcess[] {
    return [...this.workers].filter(
      (w) => !w.stopping && (w.standby === 'starting' || this.goWhenReady.has(w)) && w.startedAt < startedBefore,
    );
  }

  /** SIGKILL for a worker that holds no job and may not answer SIGTERM (one stuck while starting). */
  kill(worker: WorkerProcess): void {
    worker.stopping = true;
    this.goWhenReady.delete(worker);
    worker.child.kill('SIGKILL');
  }

  /** Asks one worker to stop gracefully (SIGTERM). */
  stop(worker: WorkerProcess): void {
    if (worker.stopping) return;
    worker.stopping = true;
    worker.child.kill('SIGTERM');
  }

  /** SIGTERM to every worker; after `timeoutMs`, SIGKILL to those still running. Resolves when all have exited. */
  async stopAll(timeoutMs: number): Promise<void> {
    const all = [...this.workers];
    for (const worker of all) this.stop(worker);
    const kill = setTimeout(() => {
      for (const worker of this.workers) {
        this.opts.logger.error({ workerPid: worker.pid, timeoutMs }, 'worker did not stop in time; killing it');
        worker.child.kill('SIGKILL');
      }
    }, timeoutMs);
    try {
      await Promise.all(all.map((w) => w.exited));
    } finally {
      clearTimeout(kill);
      process.off('exit', this.killAllOnExit);
    }
  }
}
