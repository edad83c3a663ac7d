import { describeError } from '../../core/errors.ts';
import { childPids } from './proc-stats.ts';

type Step = { label: string; run: () => unknown };

/** Every stack not yet run, oldest first. */
const live = new Set<Cleanup>();
/** Set once the bench is stopping (a signal): no new stage may start. */
let stopping = false;
const stoppingController = new AbortController();

/** Aborts when the bench is stopping: long operations (uploads) listen to it so clean-up is not kept waiting. */
export const benchStopping: AbortSignal = stoppingController.signal;

/**
 * Clean-up steps of one benchmark stage, run last-in first-out, each in its
 * own try/catch so one failure does not leave the rest behind. `run()` is
 * idempotent. Every live stack is also reachable from `runAllCleanups()`,
 * which the signal handlers of bench/run.ts call.
 */
export class Cleanup {
  private readonly steps: Step[] = [];
  private running: Promise<void> | undefined;

  constructor() {
    live.add(this);
  }

  /** Adds a step; on a stack that already ran (the bench is stopping), runs it at once. */
  defer(label: string, run: () => unknown): void {
    const step = { label, run };
    if (this.running) void runStep(step);
    else this.steps.push(step);
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (let step = this.steps.pop(); step; step = this.steps.pop()) await runStep(step);
      live.delete(this);
    })();
    return this.running;
  }
}

async function runStep(step: Step): Promise<void> {
  try {
    await step.run();
  } catch (err) {
    process.stderr.write(`[bench] clean-up "${step.label}" failed: ${describeError(err)}\n`);
  }
}

/** Runs `body` with a fresh clean-up stack that is always run afterwards. */
export async function withCleanup<T>(body: (cleanup: Cleanup) => Promise<T>): Promise<T> {
  if (stopping) throw new Error('the bench is stopping');
  const cleanup = new Cleanup();
  try {
    return await body(cleanup);
  } finally {
    await cleanup.run();
  }
}

/**
 * Stops the bench: aborts `benchStopping`, then runs every live stack, the
 * most recent (innermost) first, so an API process stops before its emulator.
 */
export async function runAllCleanups(): Promise<void> {
  stopping = true;
  stoppingController.abort(new Error('the bench is stopping'));
  for (const cleanup of [...live].reverse()) await cleanup.run();
}

/**
 * Last resort for an exit that skipped the clean-ups (an uncaught error,
 * `process.exit` on a signal): synchronous hooks, e.g. removing temp dirs,
 * then SIGKILL for every child still running, whoever started it (the
 * worker's ffmpeg too). `onExit` returns a function that unregisters its hook
 * once the normal clean-up ran.
 */
const exitHooks = new Set<() => void>();
process.on('exit', () => {
  for (const hook of exitHooks) {
    try {
      hook();
    } catch {
      // Nothing more can be done while exiting.
    }
  }
  for (const pid of childPids(process.pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

export function onExit(hook: () => void): () => void {
  exitHooks.add(hook);
  return () => exitHooks.delete(hook);
}
