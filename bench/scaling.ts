import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import type { AwsClients } from '../core/aws.ts';
import type { Config } from '../core/config/index.ts';
import type { Logger } from '../core/logger.ts';
import { resolveResources, type ResolvedResources } from '../core/resources.ts';
import { sqsDepthSource } from '../workers/supervisor/queue-depth.ts';
import { loadConfig, workerStopTimeoutMs, type SupervisorSettings } from '../core/config/index.ts';
import { Supervisor } from '../workers/supervisor/supervisor.ts';
import { BenchJobs, SHORT_SAMPLE } from './lib/bench-jobs.ts';
import { withCleanup, type Cleanup } from './lib/cleanup.ts';
import { startEmulatorProcess, type BenchEmulator } from './lib/emulator.ts';
import { latencyStats, type LatencyStats } from './lib/latency.ts';
import { LoadWindow, round } from './lib/measure.ts';
import { cpuSeconds, cpuSecondsWithReapedChildren } from './lib/proc-stats.ts';
import { progress } from './lib/progress.ts';
import { spread, type Spread } from './lib/spread.ts';
import { benchConfig, benchLogger, provisionedClients, uniquePrefix } from './lib/reelay-setup.ts';
import { benchWorkerEnv, WORKER_EXEC_ARGV, WORKER_MAIN, WORKER_POLL_WAIT_SECONDS, WORKER_STDIO } from './lib/worker-process.ts';

export interface ScalingOptions {
  /** Jobs in each burst (20; 4 with --quick). */
  jobs: number;
  /** Scale-ups timed, each from a fresh supervisor (3; 1 with --quick): where a burst falls in the poll interval varies. */
  scaleUps: number;
  /** Pairs of bursts, 2 workers from the start and the supervisor scaling 1 → 2, in alternating order (5; 1 with --quick). */
  pairs: number;
}

export interface ScaleUpRun {
  minWorkers: number;
  maxWorkers: number;
  jobsPerWorker: number;
  /** The supervisor's poll interval, seconds: the reaction time depends on it. */
  pollSeconds: number;
  burst: number;
  /** Burst sent → the supervisor's `scale up` decision (it forks the workers right after), seconds. */
  decidedSeconds: number | undefined;
  /** Burst sent → every one of the maximum workers running and reporting over IPC (polling), seconds. */
  allRunningSeconds: number;
  /** Burst sent → a worker the scale-up added reports its first job in hand, seconds. */
  newWorkerFirstJobSeconds: number;
}

export interface ThroughputRun {
  workers: number;
  jobs: number;
  /** First SendMessageBatch → the last job's `finishedAt`, seconds. */
  seconds: number;
  jobsPerMinute: number;
  /** startedAt → finishedAt of each job, ms. */
  jobMs: LatencyStats;
  /** Burst sent (the videos were uploaded) → each video's finishedAt (`ready`), ms: what the uploader waits. */
  readyMs: LatencyStats & { p95Ms: number };
  /** Supervisor-driven run only: worker processes at the end. */
  autoscaled?: boolean;
  /** SendMessageBatch → the first job's `startedAt` on an idle worker, ms: dispatch through the whole worker. */
  firstPickupMs: number;
  /** CPU of this process, the emulator, the workers and their ffmpeg runs, in % of one core. */
  cpuPercent: number;
  otherLoadCores: number;
}

/** One pair of bursts run back to back: 2 workers from the start, and the supervisor starting at 1 free to go to 2. */
export interface ThroughputPair {
  /** Which ran first; the order alternates from pair to pair so drift in the machine's speed does not favour either. */
  first: 'two' | 'autoscaled';
  two: ThroughputRun;
  /** 1 idle worker, the supervisor at its default settings free to go to 2 during the burst (as `npm start` runs). */
  autoscaled: ThroughputRun;
  /** autoscaled ÷ two, jobs/min: what scaling up mid-burst costs against two workers from the start. */
  ratio: number;
}

export interface ScalingResult {
  sample: string;
  settings: {
    preset: string;
    threads: number;
    niceness: number;
    pollWaitSeconds: number;
    supervisorPollSeconds: number;
    standbyWorkers: number;
  };
  scaleUps: ScaleUpRun[];
  throughput: {
    one: ThroughputRun;
    pairs: ThroughputPair[];
    /** Median jobs/min of 2 fixed workers ÷ 1 worker's. */
    twoToOne: number;
    /** autoscaled ÷ two over the pairs; the goal is judged on the median. */
    autoscaledToTwo: Spread;
  };
  /** One worker working through the burst: a job's `finishedAt` → the next job's `startedAt`, ms. */
  busyWorkerGapMs: LatencyStats;
}

/** Longer than any run here: no scale-down while measuring. */
const SCALE_DOWN_COOLDOWN_SECONDS = 600;
const TIMEOUT_MS = 10 * 60_000;

interface RunContext {
  emulator: BenchEmulator;
  clients: AwsClients;
  resources: ResolvedResources;
  config: Config;
  jobs: BenchJobs;
  env: Record<string, string | undefined>;
  burst: number;
}

/**
 * The supervisor (workers/supervisor/) in this process, as `npm run
 * supervisor` runs it, forking real `workers/transcode/main.ts` processes
 * against the emulator in its own process, with its default settings. Bursts
 * of the 3 s sample: on 1–2 workers (how fast does it scale up?), on exactly 1
 * worker, then pairs of bursts on exactly 2 workers and on the supervisor
 * scaling 1 → 2 (what does scaling up mid-burst cost?). Job times come from the
 * status documents the workers write.
 */
export async function runScaling({ jobs: burst, scaleUps: scaleUpRuns, pairs: pairCount }: ScalingOptions): Promise<ScalingResult> {
  return withCleanup(async (cleanup) => {
    progress('scaling: starting the emulator process');
    const emulator = await startEmulatorProcess(cleanup);
    const prefix = uniquePrefix('scaling');
    const config = benchConfig(emulator.endpoint, prefix, { REELAY_POLL_WAIT_SECONDS: String(WORKER_POLL_WAIT_SECONDS) });
    const clients = await provisionedClients(cleanup, config, benchLogger('bench-scaling'));
    const resources = await resolveResources(clients, prefix);
    const jobs = await BenchJobs.create(clients, resources, { prefix, sample: SHORT_SAMPLE });
    const env = benchWorkerEnv(emulator.endpoint, prefix);
    // The supervisor as `npm start` runs it (default poll and jobs per worker), except: no scale-down while measuring.
    const base: SupervisorSettings = {
      ...loadConfig(env).supervisor,
      scaleDownCooldownMs: SCALE_DOWN_COOLDOWN_SECONDS * 1000,
      port: 0,
    };
    const ctx: RunContext = { emulator, clients, resources, config, jobs, env, burst };

    const scaleUps: ScaleUpRun[] = [];
    for (let n = 0; n < scaleUpRuns; n++) scaleUps.push(await runScaleUp(ctx, { ...base, minWorkers: 1, maxWorkers: 2 }));
    const one = await runThroughput(ctx, { ...base, minWorkers: 1, maxWorkers: 1 });
    const pairs: ThroughputPair[] = [];
    for (let n = 0; n < pairCount; n++) {
      const first = n % 2 === 0 ? 'two' : 'autoscaled';
      const runTwo = () => runThroughput(ctx, { ...base, minWorkers: 2, maxWorkers: 2 });
      const runAutoscaled = () => runThroughput(ctx, { ...base, minWorkers: 1, maxWorkers: 2 });
      progress(`scaling: pair ${n + 1} of ${pairCount} (${first === 'two' ? '2 workers first' : 'supervisor 1 → 2 first'})`);
      const [a, b] = first === 'two' ? [await runTwo(), await runAutoscaled()] : [await runAutoscaled(), await runTwo()];
      const [two, autoscaled] = first === 'two' ? [a.run, b.run] : [b.run, a.run];
      pairs.push({ first, two, autoscaled: { ...autoscaled, autoscaled: true }, ratio: autoscaled.jobsPerMinute / two.jobsPerMinute });
    }
    const twoJobsPerMinute = spread(pairs.map((p) => p.two.jobsPerMinute)).median;
    return {
      sample: SHORT_SAMPLE.description,
      settings: {
        preset: config.ffmpeg.preset,
        threads: config.ffmpeg.threads,
        niceness: config.ffmpeg.niceness,
        pollWaitSeconds: config.worker.pollWaitSeconds,
        supervisorPollSeconds: base.pollMs / 1000,
        standbyWorkers: base.standbyWorkers,
      },
      scaleUps,
      throughput: {
        one: one.run,
        pairs,
        twoToOne: twoJobsPerMinute / one.run.jobsPerMinute,
        autoscaledToTwo: spread(pairs.map((p) => p.ratio)),
      },
      busyWorkerGapMs: latencyStats(one.gapsMs),
    };
  });
}

/**
 * Supervisor at its minimum of idle workers; a burst arrives. Timed until a
 * worker the scale-up added has its first job; then the supervisor stops
 * (its workers finish the jobs in hand) and the rest of the burst is purged.
 */
function runScaleUp(ctx: RunContext, settings: SupervisorSettings): Promise<ScaleUpRun> {
  return withCleanup(async (cleanup) => {
    const { supervisor, decisions } = await startSupervisor(cleanup, ctx, settings);
    const prepared = await ctx.jobs.prepare(ctx.burst, 'normal');
    await settle();
    // Where in the supervisor's poll interval the burst falls decides the reaction time: make it a random point.
    await sleep(Math.random() * settings.pollMs);
    progress(
      `scaling: burst of ${ctx.burst} jobs on ${settings.minWorkers}–${settings.maxWorkers} workers (supervisor poll ${settings.pollMs / 1000} s)`,
    );
    const firstWorkers = new Set(supervisor.workers.map((w) => w.pid));
    const sentAt = await ctx.jobs.send(prepared);
    await until(() => allRunning(supervisor, settings.maxWorkers), 60_000, `${settings.maxWorkers} workers to report`);
    const allRunningAt = Date.now();
    await until(
      () => supervisor.workers.some((w) => !firstWorkers.has(w.pid) && (w.state?.busy ?? 0) > 0),
      60_000,
      'a new worker to take a job',
    );
    const newWorkerBusyAt = Date.now();
    const decidedAt = decisions.firstScaleUpAfter(sentAt);
    await supervisor.stop();
    await ctx.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: ctx.resources.tierQueueUrl.normal }));
    return {
      minWorkers: settings.minWorkers,
      maxWorkers: settings.maxWorkers,
      jobsPerWorker: settings.jobsPerWorker,
      pollSeconds: settings.pollMs / 1000,
      burst: ctx.burst,
      decidedSeconds: decidedAt === undefined ? undefined : (decidedAt - sentAt) / 1000,
      allRunningSeconds: (allRunningAt - sentAt) / 1000,
      newWorkerFirstJobSeconds: (newWorkerBusyAt - sentAt) / 1000,
    };
  });
}

/** A fixed number of idle workers; a burst arrives; timed until every job is ready. */
function runThroughput(ctx: RunContext, settings: SupervisorSettings): Promise<{ run: ThroughputRun; gapsMs: number[] }> {
  return withCleanup(async (cleanup) => {
    const { emulator, jobs, burst } = ctx;
    const workers = settings.maxWorkers;
    const autoscaled = settings.minWorkers !== settings.maxWorkers;
    const { supervisor } = await startSupervisor(cleanup, ctx, settings);
    const prepared = await jobs.prepare(burst, 'normal');
    await settle();

    progress(
      `scaling: burst of ${burst} jobs on ${autoscaled ? `${settings.minWorkers}–` : ''}${workers} worker${workers === 1 ? '' : 's'}`,
    );
    const load = new LoadWindow();
    const cpuBefore = { bench: process.cpuUsage(), emulator: cpuSeconds(emulator.pid) };
    // Standbys too: one activated mid-burst counts from here, not with its start-up before the burst.
    const workerCpuBefore = new Map(
      [...supervisor.workers, ...supervisor.standbys].map((w) => [w.pid!, cpuSecondsWithReapedChildren(w.pid!)]),
    );
    const sentAt = await jobs.send(prepared);
    // A worker the supervisor forks mid-burst is counted from 0 (it did nothing before); sampled until the end, while it lives.
    const lastCpu = new Map(workerCpuBefore);
    const sampler = setInterval(() => {
      for (const w of supervisor.workers) if (w.pid) lastCpu.set(w.pid, cpuSecondsWithReapedChildren(w.pid) || (lastCpu.get(w.pid) ?? 0));
    }, 250);
    try {
      await jobs.waitFor(
        'video.ready',
        prepared.map((j) => j.videoId),
        { timeoutMs: TIMEOUT_MS },
      );
    } finally {
      clearInterval(sampler);
    }
    for (const w of supervisor.workers) if (w.pid) lastCpu.set(w.pid, cpuSecondsWithReapedChildren(w.pid));
    const measuredSeconds = (Date.now() - sentAt) / 1000;
    const workersCpu = [...lastCpu].reduce((sum, [pid, cpu]) => sum + cpu - (workerCpuBefore.get(pid) ?? 0), 0);
    const finalWorkers = supervisor.workers.length;
    const benchUsage = process.cpuUsage(cpuBefore.bench);
    const ownCpu = workersCpu + cpuSeconds(emulator.pid) - cpuBefore.emulator + (benchUsage.user + benchUsage.system) / 1e6;
    const otherLoadCores = load.otherLoadCores(ownCpu);

    const docs = (await jobs.statuses(prepared.map((j) => j.videoId)))
      .map((d) => ({ startedAt: Date.parse(d.startedAt ?? ''), finishedAt: Date.parse(d.finishedAt ?? '') }))
      .sort((a, b) => a.startedAt - b.startedAt);
    if (docs.some((d) => !Number.isFinite(d.startedAt) || !Number.isFinite(d.finishedAt)))
      throw new Error('a ready video has no startedAt or finishedAt');
    const seconds = (Math.max(...docs.map((d) => d.finishedAt)) - sentAt) / 1000;
    return {
      run: {
        workers: finalWorkers,
        jobs: burst,
        seconds,
        jobsPerMinute: (60 * burst) / seconds,
        jobMs: latencyStats(docs.map((d) => d.finishedAt - d.startedAt)),
        readyMs: withP95(docs.map((d) => d.finishedAt - sentAt)),
        firstPickupMs: docs[0]!.startedAt - sentAt,
        cpuPercent: round((100 * ownCpu) / measuredSeconds),
        otherLoadCores,
      },
      // On one worker, jobs follow each other: finishedAt of one → startedAt of the next.
      gapsMs: workers === 1 && !autoscaled ? docs.slice(1).map((d, i) => d.startedAt - docs[i]!.finishedAt) : [],
    };
  });
}

async function startSupervisor(
  cleanup: Cleanup,
  { clients, resources, config, env }: RunContext,
  settings: SupervisorSettings,
): Promise<{ supervisor: Supervisor; decisions: DecisionLog }> {
  progress(`scaling: supervisor with ${settings.minWorkers}–${settings.maxWorkers} workers, waiting for ${settings.minWorkers}`);
  const decisions = new DecisionLog();
  const supervisor = await new Supervisor({
    settings,
    depth: sqsDepthSource(clients.sqs, resources.tierQueueUrl),
    worker: { script: WORKER_MAIN, execArgv: WORKER_EXEC_ARGV, env, stdio: WORKER_STDIO },
    workerStopTimeoutMs: workerStopTimeoutMs(config.worker),
    logger: decisions.logger,
  }).start();
  cleanup.defer('stop the supervisor and its workers', () => supervisor.stop());
  await until(() => allRunning(supervisor, settings.minWorkers), 30_000, `${settings.minWorkers} workers to report`);
  // An idle supervisor has its standby ready long before a burst comes.
  const standbys = Math.min(settings.standbyWorkers, settings.maxWorkers - settings.minWorkers);
  await until(
    () => supervisor.standbys.filter((w) => w.standby === 'ready').length === standbys,
    30_000,
    `${standbys} standby workers to be ready`,
  );
  return { supervisor, decisions };
}

/** Exactly `n` workers, each polling (it has reported over IPC). */
function allRunning(supervisor: Supervisor, n: number): boolean {
  return supervisor.workers.length === n && supervisor.workers.every((w) => w.state !== undefined);
}

/** Lets fresh workers settle into their long polls, as idle workers are. */
function settle(): Promise<void> {
  return sleep(500);
}

/** The supervisor's log, kept to read when it decided to scale up; warnings and errors still go to stderr. */
class DecisionLog {
  readonly logger: Logger;
  private readonly lines: { time: number; decision?: string; code?: string }[] = [];

  constructor() {
    const echoLevel = pino.levels.values[process.env.REELAY_LOG_LEVEL ?? 'warn'] ?? pino.levels.values.warn!;
    this.logger = pino(
      { level: 'info', base: { role: 'supervisor' } },
      {
        write: (line: string) => {
          const parsed = JSON.parse(line) as { time: number; level: number; decision?: string; code?: string };
          this.lines.push(parsed);
          if (parsed.level >= echoLevel) process.stderr.write(line);
        },
      },
    );
  }

  /** Epoch ms of the first `scale up` for a backlog at or after `since`. */
  firstScaleUpAfter(since: number): number | undefined {
    return this.lines.find((l) => l.time >= since && l.decision === 'up' && l.code === 'backlog')?.time;
  }
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(10);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** latencyStats plus the nearest-rank p95. */
function withP95(samplesMs: number[]): LatencyStats & { p95Ms: number } {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const p95 = sorted[Math.min(sorted.length, Math.max(1, Math.ceil(0.95 * sorted.length))) - 1]!;
  return { ...latencyStats(samplesMs), p95Ms: Math.round(p95 * 10) / 10 };
}
