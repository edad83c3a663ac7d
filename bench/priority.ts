import { resolveResources } from '../core/resources.ts';
import type { VideoStatus } from '../core/video-status.ts';
import { BenchJobs, SHORT_SAMPLE } from './lib/bench-jobs.ts';
import { withCleanup } from './lib/cleanup.ts';
import { startEmulatorProcess } from './lib/emulator.ts';
import { LoadWindow } from './lib/measure.ts';
import { cpuSeconds, cpuSecondsWithReapedChildren } from './lib/proc-stats.ts';
import { progress } from './lib/progress.ts';
import { benchConfig, benchLogger, provisionedClients, uniquePrefix } from './lib/reelay-setup.ts';
import { benchWorkerEnv, startWorkerProcess, WORKER_POLL_WAIT_SECONDS } from './lib/worker-process.ts';

export interface PriorityOptions {
  /** `low` jobs queued at once on the idle worker (20; 5 with --quick). */
  lowBacklog: number;
  /**
   * The first `high` job is sent 300 ms after the worker started its first
   * low job; one more is sent for each share here, that share of a low job's
   * duration after a later low job started (half done, nearly done).
   */
  laterSendShares: number[];
}

export interface HighJobRun {
  /**
   * Seconds after the low backlog was sent that the high job was. Within the
   * poll wait of it, the long polls an idle worker had out on the other tiers
   * may still be waiting, and one of them may receive the high job while the
   * worker is busy.
   */
  sinceBacklogSeconds: number;
  /** Times a poll received the high job while the worker was busy and handed it back (visible again after 1 s). */
  handedBack: number;
  /** ms after the job in hand started that the high job was sent. */
  sentAfterJobStartMs: number;
  /** Jobs that started after the high job was sent and before it; 0 when it was the very next. */
  jobsStartedBefore: number;
  /** SendMessage → the worker's `startedAt`, seconds. */
  delaySeconds: number;
  /** The job in hand's `finishedAt` → the high job's `startedAt`, seconds: how long it waited once the worker was free. */
  afterJobInHandSeconds: number;
  /** How long the job in hand ran, seconds. */
  jobInHandSeconds: number;
}

export interface PriorityResult {
  sample: string;
  worker: { pollWaitSeconds: number; fairnessEvery: number };
  lowBacklog: number;
  runs: HighJobRun[];
  otherLoadCores: number;
}

const FIRST_SEND_MS = 300;
const TIMEOUT_MS = 120_000;

/**
 * One real worker process (`workers/transcode/main.ts`) against the emulator
 * in its own process. While it is idle, a backlog of `low` jobs (the 3 s
 * sample) arrives at once; shortly after it starts one, a `high` job is sent.
 * Which job starts next, and how long the high job waited, come from the
 * status documents (`startedAt`, `finishedAt`, written by the worker), and
 * whether a poll handed it back meanwhile from the worker's debug log. Every
 * further high job is sent during a later low job, at another point of it.
 */
export async function runPriority({ lowBacklog, laterSendShares }: PriorityOptions): Promise<PriorityResult> {
  return withCleanup(async (cleanup) => {
    progress('priority: starting the emulator process');
    const emulator = await startEmulatorProcess(cleanup);
    const prefix = uniquePrefix('priority');
    const config = benchConfig(emulator.endpoint, prefix, { REELAY_POLL_WAIT_SECONDS: String(WORKER_POLL_WAIT_SECONDS) });
    const clients = await provisionedClients(cleanup, config, benchLogger('bench-priority'));
    const resources = await resolveResources(clients, prefix);
    const jobs = await BenchJobs.create(clients, resources, { prefix, sample: SHORT_SAMPLE });
    const lows = await jobs.prepare(lowBacklog, 'low');
    const highs = await jobs.prepare(1 + laterSendShares.length, 'high');

    progress('priority: starting one worker process');
    const worker = await startWorkerProcess(cleanup, { env: benchWorkerEnv(emulator.endpoint, prefix), readLog: true });
    // Idle for a moment, long-polling every tier, as a worker is when a backlog arrives.
    await sleep(500);

    const load = new LoadWindow();
    const cpuBefore = process.cpuUsage();
    const emulatorBefore = cpuSeconds(emulator.pid);
    const workerBefore = cpuSecondsWithReapedChildren(worker.pid);
    progress(
      `priority: ${lowBacklog} low jobs at once, then ${highs.length} high job${highs.length === 1 ? '' : 's'} while a low one runs`,
    );
    let jobStart = worker.nextJobStart();
    const backlogSentAt = await jobs.send(lows);
    const sentAt: number[] = [];
    let lowJobMs: number | undefined;
    for (const [k, high] of highs.entries()) {
      const inHandStartedAt = await jobStart;
      const offsetMs = k === 0 || lowJobMs === undefined ? FIRST_SEND_MS : laterSendShares[k - 1]! * lowJobMs;
      await sleep(inHandStartedAt + offsetMs - Date.now());
      sentAt.push(await jobs.send([high]));
      await jobs.waitFor('video.processing', [high.videoId], { timeoutMs: TIMEOUT_MS });
      // The next job to start after this high one is a low one: the next high job is sent during it.
      jobStart = worker.nextJobStart();
      if (lowJobMs === undefined) {
        const finished = (await jobs.statuses(lows.map((j) => j.videoId))).filter((d) => d.startedAt && d.finishedAt);
        lowJobMs = finished.length > 0 ? Date.parse(finished[0]!.finishedAt!) - Date.parse(finished[0]!.startedAt!) : undefined;
      }
    }
    const docs = await jobs.statuses([...lows, ...highs].map((j) => j.videoId));
    const emulatorCpu = cpuSeconds(emulator.pid) - emulatorBefore;
    const benchUsage = process.cpuUsage(cpuBefore);
    const otherLoadCores = load.otherLoadCores(
      emulatorCpu + (benchUsage.user + benchUsage.system) / 1e6 + cpuSecondsWithReapedChildren(worker.pid) - workerBefore,
    );

    return {
      sample: SHORT_SAMPLE.description,
      worker: { pollWaitSeconds: config.worker.pollWaitSeconds, fairnessEvery: config.worker.fairnessEvery },
      lowBacklog,
      runs: highs.map((high, k) => ({
        sinceBacklogSeconds: (sentAt[k]! - backlogSentAt) / 1000,
        handedBack: worker.log.filter((l) => l.msg === 'handing back' && l.messageId === jobs.messageId(high.videoId)).length,
        ...highJobRun(docs, high.videoId, sentAt[k]!),
      })),
      otherLoadCores,
    };
  });
}

/** Where the high job sent at `sentAt` landed in the worker's start order. */
function highJobRun(docs: readonly VideoStatus[], highId: string, sentAt: number): Omit<HighJobRun, 'sinceBacklogSeconds' | 'handedBack'> {
  const started = docs
    .filter((d) => d.startedAt)
    .map((d) => ({ id: d.id, startedAt: Date.parse(d.startedAt!), finishedAt: d.finishedAt ? Date.parse(d.finishedAt) : undefined }))
    .sort((a, b) => a.startedAt - b.startedAt);
  const high = started.find((d) => d.id === highId);
  if (!high) throw new Error(`the high job ${highId} never started`);
  const inHand = started.filter((d) => d.startedAt < sentAt).at(-1);
  if (!inHand?.finishedAt) throw new Error('no job was in hand when the high job was sent');
  return {
    sentAfterJobStartMs: sentAt - inHand.startedAt,
    jobsStartedBefore: started.filter((d) => d.startedAt >= sentAt && d.startedAt < high.startedAt).length,
    delaySeconds: (high.startedAt - sentAt) / 1000,
    afterJobInHandSeconds: (high.startedAt - inHand.finishedAt) / 1000,
    jobInHandSeconds: (inHand.finishedAt - inHand.startedAt) / 1000,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
