import type { StdioOptions } from 'node:child_process';
import type { Logger } from '../../core/logger.ts';
import { decideScale, plural, type ScaleDecision } from './decide-scale.ts';
import { startMetricsServer, type MetricsServer } from '../../core/metrics.ts';
import { SupervisorMetrics } from './metrics.ts';
import { totalDepth, type DepthSource, type TierDepth } from './queue-depth.ts';
import type { SupervisorSettings } from '../../core/config/index.ts';
import { WorkerPool, type WorkerExit, type WorkerProcess } from './worker-pool.ts';

export interface SupervisorOptions {
  settings: SupervisorSettings;
  /** Reads the tier queues' depth (sqsDepthSource in production). */
  depth: DepthSource;
  worker: { script: string; execArgv: string[]; env: NodeJS.ProcessEnv; stdio?: StdioOptions };
  /** How long stopping waits for workers to finish or hand back their jobs before killing them, ms. */
  workerStopTimeoutMs: number;
  /** A standby not ready this long after it was started is stuck: killed and replaced, ms (default 60 s). */
  standbyStartTimeoutMs?: number;
  /** Bind address of /metrics and /healthz. Default 127.0.0.1. */
  host?: string;
  logger: Logger;
}

/** A worker that dies before it ever reported was broken from the start: wait before the next one, up to this long. */
const MAX_RESTART_BACKOFF_MS = 30_000;
/** A standby is ready within seconds (a Node process loading the worker); one not ready after this is stuck. */
const STANDBY_START_TIMEOUT_MS = 60_000;
/** Rounds brought forward by workers filling up start at least this long after the previous round. */
const MIN_EARLY_ROUND_GAP_MS = 250;

/**
 * Keeps the number of worker processes matched to the tier queues' depth.
 * Every `pollMs` (the next poll is scheduled when the previous one has
 * finished) it reads the depth, asks `decideScale`, starts or stops workers,
 * logs the decision and updates the metrics. Nothing is thrown out of the loop.
 * A round also runs as soon as every worker has its hands full while more
 * could run (at most one such early round every 250 ms): a burst is then met
 * when its first job is taken, not up to a poll interval later.
 */
export class Supervisor {
  readonly metrics = new SupervisorMetrics();
  private readonly opts: SupervisorOptions;
  private readonly pool: WorkerPool;
  private readonly abort = new AbortController();
  private server: MetricsServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private runAgain = false;
  /** When the current or last round started, and when the next one is scheduled (epoch ms). */
  private roundStartedAt = 0;
  private nextRoundAt = 0;
  private stopping: Promise<void> | undefined;
  private lowerSince: number | undefined;
  private lastLogged = '';
  private lastDepth: TierDepth | undefined;
  /** Workers in a row that died before reporting, and when the next start is allowed. */
  private failedStarts = 0;
  private startsBlockedUntil = 0;
  private exitedUnexpectedly = 0;
  /** Standbys in a row that died before they were ready, and when the next may be started: they block nothing else. */
  private standbyFailures = 0;
  private standbysBlockedUntil = 0;

  constructor(opts: SupervisorOptions) {
    this.opts = opts;
    this.pool = new WorkerPool({
      ...opts.worker,
      logger: opts.logger,
      onUnexpectedExit: (worker, exit) => this.onUnexpectedExit(worker, exit),
      onStateChange: (_worker, first) => {
        if (first) this.failedStarts = 0;
        this.countWorkers();
        if (this.allFull()) this.pollSoon();
      },
      onStandbyReady: () => {
        this.standbyFailures = 0;
        this.countWorkers();
      },
    });
  }

  /** Starts the metrics server and makes the first decision at once. */
  async start(): Promise<this> {
    const { settings, host = '127.0.0.1', logger } = this.opts;
    this.server = await startMetricsServer({
      registry: this.metrics.registry,
      host,
      port: settings.port,
      variable: 'REELAY_SUPERVISOR_PORT',
      health: () => ({ status: 'ok', workers: this.metrics.workers, desired: this.metrics.desired, standby: this.metrics.standby }),
    });
    logger.info({ settings, metrics: this.server.url }, 'supervisor started');
    this.poll();
    return this;
  }

  /** The port /metrics listens on (useful with port 0). */
  get port(): number | undefined {
    return this.server?.port;
  }

  /** Worker processes that count, with what each last reported. */
  get workers(): readonly WorkerProcess[] {
    return this.pool.running;
  }

  /** Worker processes started ahead, not polling until a scale-up activates them. */
  get standbys(): readonly WorkerProcess[] {
    return this.pool.standbys;
  }

  /** Stops polling, SIGTERMs every worker, waits for them (bounded), closes the metrics server. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.timer);
      this.abort.abort();
      await this.running;
      this.opts.logger.info({ workers: this.pool.running.length, standby: this.pool.standbys.length }, 'supervisor stopping its workers');
      await this.pool.stopAll(this.opts.workerStopTimeoutMs);
      await this.server?.close();
      this.opts.logger.info('supervisor stopped');
    })();
    return this.stopping;
  }

  /** Runs one decision now, or right after the one under way. */
  private poll(): void {
    if (this.stopping) return;
    if (this.running) {
      this.runAgain = true;
      return;
    }
    clearTimeout(this.timer);
    this.roundStartedAt = Date.now();
    this.running = this.reconcile().then((nextInMs) => {
      this.running = undefined;
      if (this.stopping) return;
      const delay = this.runAgain ? Math.max(0, this.roundStartedAt + MIN_EARLY_ROUND_GAP_MS - Date.now()) : nextInMs;
      this.runAgain = false;
      this.schedule(delay);
    });
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.nextRoundAt = Date.now() + delayMs;
    this.timer = setTimeout(() => this.poll(), delayMs);
  }

  /** A round now, or as soon as the previous one is `MIN_EARLY_ROUND_GAP_MS` old; never later than already scheduled. */
  private pollSoon(): void {
    if (this.stopping) return;
    const waitMs = this.roundStartedAt + MIN_EARLY_ROUND_GAP_MS - Date.now();
    // A round under way may have read the queues before this burst reached them: another follows it.
    if (this.running) this.runAgain = true;
    else if (waitMs <= 0) this.poll();
    else if (Date.now() + waitMs < this.nextRoundAt) this.schedule(waitMs);
  }

  /** Every worker reported and holds as many jobs as it takes, and the maximum would allow more workers. */
  private allFull(): boolean {
    const running = this.pool.running;
    return (
      running.length > 0 &&
      running.length < this.opts.settings.maxWorkers &&
      running.every((w) => w.state !== undefined && w.state.busy >= w.state.concurrency)
    );
  }

  /** One round: read, decide, act, report. Resolves with the delay until the next round; never rejects. */
  private async reconcile(): Promise<number> {
    const { settings, logger } = this.opts;
    try {
      let depth: TierDepth | undefined;
      try {
        // Bounded: the SDK has no request timeout of its own, and a hung read would stall every decision.
        const timeout = AbortSignal.timeout(Math.max(5000, 2 * settings.pollMs));
        depth = await this.opts.depth(AbortSignal.any([this.abort.signal, timeout]));
        this.lastDepth = depth;
      } catch (err) {
        if (this.abort.signal.aborted) return settings.pollMs;
        logger.warn({ err }, 'could not read the queue depth');
      }
      if (this.stopping) return settings.pollMs;

      const now = Date.now();
      this.killStuckStandbys(now);
      const running = this.pool.running;
      const busy = running.filter(WorkerPool.isBusy).length;
      let decision = decideScale({
        depth: depth && totalDepth(depth),
        current: running.length,
        busy,
        lowerSince: this.lowerSince,
        now,
        settings,
      });
      this.lowerSince = decision.lowerSince;
      let nextInMs = settings.pollMs;
      const blocked = decision.action === 'up' && now < this.startsBlockedUntil;
      if (blocked) {
        const waitMs = this.startsBlockedUntil - now;
        decision = {
          ...decision,
          action: 'hold',
          count: 0,
          reason: `${decision.reason}; waiting ${Math.ceil(waitMs / 1000)}s after failed starts`,
        };
        nextInMs = Math.min(nextInMs, waitMs);
      }
      this.log(decision, depth, running.length, busy);
      this.act(decision, running);
      this.keepStandbys(now >= this.startsBlockedUntil && now >= this.standbysBlockedUntil);
      this.updateMetrics(decision, depth);
      if (!blocked) this.exitedUnexpectedly = 0;
      return nextInMs;
    } catch (err) {
      logger.error({ err }, 'supervisor round failed; trying again next poll');
      return settings.pollMs;
    }
  }

  private act(decision: ScaleDecision, running: WorkerProcess[]): void {
    if (decision.action === 'up') {
      for (let i = 0; i < decision.count; i++) this.pool.start();
      this.metrics.scaled('up');
    } else if (decision.action === 'down') {
      // The newest idle workers go first; the longest-running ones stay warm.
      const idle = running.filter((w) => !WorkerPool.isBusy(w)).sort((a, b) => (b.activeSince ?? 0) - (a.activeSince ?? 0));
      for (const worker of idle.slice(0, decision.count)) this.pool.stop(worker);
      this.metrics.scaled('down');
    }
  }

  /**
   * Up to `standbyWorkers` processes started ahead, ready to take jobs the moment a scale-up asks for them,
   * while the maximum leaves room for them to be needed.
   */
  private keepStandbys(mayStart: boolean): void {
    const { standbyWorkers, maxWorkers } = this.opts.settings;
    const wanted = Math.max(0, Math.min(standbyWorkers, maxWorkers - this.pool.running.length));
    const standbys = this.pool.standbys.sort((a, b) => b.startedAt - a.startedAt);
    if (mayStart) for (let n = standbys.length; n < wanted; n++) this.pool.startStandby();
    for (const surplus of standbys.slice(0, Math.max(0, standbys.length - wanted))) this.pool.stop(surplus);
  }

  /**
   * A standby that hangs while starting would otherwise count for ever: as the standby (none other is started)
   * or, activated while starting, as a worker that never takes a job. It holds no job, so it is killed outright
   * (a hung process may not answer SIGTERM); the next standby waits the standby back-off, and a scale-up
   * that counted on it sees one worker fewer and starts another.
   */
  private killStuckStandbys(now: number): void {
    const timeoutMs = this.opts.standbyStartTimeoutMs ?? STANDBY_START_TIMEOUT_MS;
    for (const worker of this.pool.stuckStarting(now - timeoutMs)) {
      this.pool.kill(worker);
      this.standbyFailures++;
      const backoffMs = restartBackoffMs(this.standbyFailures);
      this.standbysBlockedUntil = now + backoffMs;
      this.opts.logger.error(
        {
          workerPid: worker.pid,
          startingMs: now - worker.startedAt,
          activated: worker.standby === undefined,
          nextStandbyAfterMs: backoffMs,
        },
        'standby worker did not get ready in time; killed, to be replaced',
      );
    }
  }

  private updateMetrics(decision: ScaleDecision, depth: TierDepth | undefined): void {
    if (depth) this.metrics.setQueueDepth(depth);
    this.metrics.setDesired(decision.desired);
    this.countWorkers();
  }

  private countWorkers(): void {
    const running = this.pool.running;
    this.metrics.setWorkers({
      running: running.length,
      busy: running.filter(WorkerPool.isBusy).length,
      standby: this.pool.standbys.length,
    });
  }

  /** Every action and every change of mind at info, with the depth that caused it; repeats of a hold at debug. */
  private log(decision: ScaleDecision, depth: TierDepth | undefined, current: number, busy: number): void {
    const after = current + (decision.action === 'up' ? decision.count : decision.action === 'down' ? -decision.count : 0);
    const replacing = decision.action === 'up' && this.exitedUnexpectedly > 0;
    const fields = {
      decision: decision.action,
      code: decision.code,
      depth: depth ?? this.lastDepth,
      depthKnown: depth !== undefined,
      total: depth && totalDepth(depth),
      current,
      desired: decision.desired,
      busy,
      ...(decision.action === 'hold' ? {} : { count: decision.count, workers: after }),
      reason: replacing ? `${decision.reason}; replacing a worker that exited` : decision.reason,
    };
    const key = `${decision.action}:${decision.code}:${decision.desired}:${current}`;
    const changed = decision.action !== 'hold' || key !== this.lastLogged;
    this.lastLogged = key;
    const message =
      decision.action === 'up'
        ? `scale up: +${decision.count} -> ${workers(after)}`
        : decision.action === 'down'
          ? `scale down: -${decision.count} -> ${workers(after)}`
          : `hold at ${workers(current)}`;
    if (changed) this.opts.logger.info(fields, message);
    else this.opts.logger.debug(fields, message);
  }

  private onUnexpectedExit(worker: WorkerProcess, exit: WorkerExit): void {
    this.metrics.restarted();
    this.countWorkers();
    if (this.stopping) return;
    if (worker.standby !== undefined) {
      // Only the next standby waits: a standby that will not start must not hold back scaling up.
      this.standbyFailures++;
      const backoffMs = restartBackoffMs(this.standbyFailures);
      this.standbysBlockedUntil = Date.now() + backoffMs;
      this.opts.logger.error({ workerPid: worker.pid, ...exit, nextStandbyAfterMs: backoffMs }, 'standby worker exited unexpectedly');
      return;
    }
    this.exitedUnexpectedly++;
    // A worker that never reported did not get going (bad config, missing queues): back off before the next.
    this.failedStarts = worker.state === undefined ? this.failedStarts + 1 : 0;
    const backoffMs = restartBackoffMs(this.failedStarts);
    this.startsBlockedUntil = Date.now() + backoffMs;
    this.opts.logger.error({ workerPid: worker.pid, ...exit, nextStartAfterMs: backoffMs }, 'worker exited unexpectedly');
    this.poll();
  }
}

const workers = (n: number) => plural(n, 'worker');

/** 0 after no failure, then 1 s, 2 s, 4 s … up to MAX_RESTART_BACKOFF_MS. */
const restartBackoffMs = (failures: number) => (failures === 0 ? 0 : Math.min(MAX_RESTART_BACKOFF_MS, 1000 * 2 ** (failures - 1)));
