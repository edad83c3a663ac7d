import { DeleteMessageCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { pino } from 'pino';
import type { AwsClients } from '../core/aws.ts';
import { newVideoId } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { resolveResources, type PriorityTier, type ResolvedResources } from '../core/resources.ts';
import { jobMessage, transcodeJob } from '../core/job-queue.ts';
import { TierPoller, type ReceivedMessage } from '../workers/transcode/tier-poller.ts';
import { benchStopping, withCleanup } from './lib/cleanup.ts';
import { startEmulatorProcess } from './lib/emulator.ts';
import { latencyStats, type LatencyStats } from './lib/latency.ts';
import { LoadWindow, round } from './lib/measure.ts';
import { cpuSeconds } from './lib/proc-stats.ts';
import { progress } from './lib/progress.ts';
import { benchConfig, benchLogger, provisionedClients, uniquePrefix } from './lib/reelay-setup.ts';
import { WORKER_POLL_WAIT_SECONDS } from './lib/worker-process.ts';

export interface DispatchLatencyOptions {
  /** Tiny jobs sent one at a time to the idle poller, per measured tier (100; 25 with --quick). */
  jobsPerTier: number;
  /** Jobs on the backlog the busy poller works through (50; 15 with --quick). */
  backlogJobs: number;
  /** Samples of a `low` job arriving shortly after a `high` one on a fresh poller (8; none with --quick: each takes seconds). */
  afterJobSamples: number;
}

/** The tiers measured idle: the top one, and the bottom one that the idle poller long-polls alongside it. */
export const DISPATCH_TIERS = ['high', 'low'] as const satisfies readonly PriorityTier[];
export type DispatchTier = (typeof DISPATCH_TIERS)[number];

export interface DispatchLatencyResult {
  settings: {
    /** REELAY_POLL_WAIT_SECONDS of the poller (as the bench's workers run it). */
    pollWaitSeconds: number;
    fairnessEvery: number;
    /** The poller sat idle this long (uniformly random, ms) before each job was sent. */
    idleBeforeSendMs: [number, number];
  };
  /**
   * SendMessage called → TierPoller.next() resolved with that job, per tier;
   * the SendMessage round trip alone; and the jobs found by the immediate (0 s)
   * receives that start a poll round rather than by a long poll (from the
   * poller's debug log).
   */
  idle: Record<DispatchTier, { dispatch: LatencyStats; sendRoundTrip: LatencyStats; notLongPolled: LatencyStats | undefined }>;
  /** A backlog on the `low` tier (every poll cycle asks the empty higher tiers first): previous job deleted → next job received. */
  busy: { tier: 'low'; jobs: number; gap: LatencyStats };
  /**
   * A fresh poller long-polls every tier; a `high` job arrives at a random
   * point of the poll wait and is done at once; a `low` job follows at a random
   * point of the next poll wait: SendMessage → `next()` returns it, ms, and how
   * many of them only a new poll round (immediate receive) found.
   */
  afterJob: { dispatch: LatencyStats; notLongPolled: number } | undefined;
  /** During the idle series: CPU in % of one core, and the rest of the machine's load. */
  cpuPercent: { bench: number; emulator: number };
  otherLoadCores: number;
}

const IDLE_BEFORE_SEND_MS: [number, number] = [20, 150];

/**
 * Dispatch latency measured on the real TierPoller (what each worker loop
 * calls for its next job) against the emulator in its own process: the clock
 * starts right before SendMessage and stops when `next()` hands the job over,
 * both in this process, so no cross-process clocks or status-document writes
 * blur the figure. First a backlog measures the gap a busy worker's polling
 * leaves between two jobs; then jobs alternate at random between `high` and
 * `low`, each sent to an idle poller after a short random pause; last, a `low`
 * job arrives at a random point after a `high` one, the pauses now spanning
 * the poll wait, as for a worker that finished a short job and went idle.
 */
export async function runDispatchLatency({
  jobsPerTier,
  backlogJobs,
  afterJobSamples,
}: DispatchLatencyOptions): Promise<DispatchLatencyResult> {
  return withCleanup(async (cleanup) => {
    progress('dispatch: starting the emulator process');
    const emulator = await startEmulatorProcess(cleanup);
    const config = benchConfig(emulator.endpoint, uniquePrefix('dispatch'), { REELAY_POLL_WAIT_SECONDS: String(WORKER_POLL_WAIT_SECONDS) });
    const clients = await provisionedClients(cleanup, config, benchLogger('bench-dispatch'));
    const receives = new ReceiveLog();
    const logger = receives.logger;
    const resources = await resolveResources(clients, config.prefix);
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, benchStopping]);
    const pollers: TierPoller[] = [];
    cleanup.defer('stop the pollers', async () => {
      stop.abort();
      await Promise.all(pollers.map((p) => p.close()));
    });
    const newPoller = () => {
      const poller = new TierPoller({
        sqs: clients.sqs,
        queueUrls: resources.tierQueueUrl,
        waitSeconds: config.worker.pollWaitSeconds,
        visibilityTimeoutSeconds: config.worker.visibilityTimeoutMs / 1000,
        fairnessEvery: config.worker.fairnessEvery,
        logger,
      });
      pollers.push(poller);
      return poller;
    };

    // Busy first: a backlog on the bottom tier, worked through by a fresh poller. Every job is found by an
    // immediate receive, so once the backlog is done this poller has no long poll out that could take a later job.
    progress(`dispatch: busy poller, backlog of ${backlogJobs} low jobs`);
    await sendBacklog(clients, resources, 'low', backlogJobs);
    const busyPoller = newPoller();
    const gaps: number[] = [];
    let doneAt: number | undefined;
    for (let i = 0; i < backlogJobs; i++) {
      const got = await busyPoller.next(signal);
      const startedAt = performance.now();
      if (!got) throw new Error('the poller stopped before the backlog was done');
      if (doneAt !== undefined) gaps.push(startedAt - doneAt);
      await deleteMessage(clients, got);
      doneAt = performance.now();
    }

    // Idle: one job at a time, each to a poller that is waiting for work.
    const order = shuffle(DISPATCH_TIERS.flatMap((tier) => Array.from({ length: jobsPerTier }, () => tier)));
    const dispatch: Record<DispatchTier, number[]> = { high: [], low: [] };
    const sendRoundTrip: Record<DispatchTier, number[]> = { high: [], low: [] };
    const notLongPolled: Record<DispatchTier, number[]> = { high: [], low: [] };
    const idlePoller = newPoller();
    const stopIdle = new AbortController();
    const idleSignal = AbortSignal.any([stopIdle.signal, signal]);
    const cpuBefore = { bench: process.cpuUsage(), emulator: cpuSeconds(emulator.pid) };
    const load = new LoadWindow();
    const idleStarted = performance.now();
    let next: Promise<ReceivedMessage | undefined> = idlePoller.next(idleSignal);
    for (const [i, tier] of order.entries()) {
      if (i % 20 === 0) progress(`dispatch: idle poller, job ${i + 1} of ${order.length}`);
      const [min, max] = IDLE_BEFORE_SEND_MS;
      await sleep(min + Math.random() * (max - min));
      const sentAt = performance.now();
      const sent = clients.sqs
        .send(new SendMessageCommand({ QueueUrl: resources.tierQueueUrl[tier], MessageBody: tinyJob(tier) }), { abortSignal: signal })
        .then(() => performance.now());
      const got = await next;
      const startedAt = performance.now();
      const sentDoneAt = await sent;
      if (!got) throw new Error('the poller stopped before the job arrived');
      if (got.tier !== tier) throw new Error(`sent a ${tier} job, the poller returned a ${got.tier} one`);
      dispatch[tier].push(startedAt - sentAt);
      sendRoundTrip[tier].push(sentDoneAt - sentAt);
      if (receives.waitSeconds(got.message.MessageId) === 0) notLongPolled[tier].push(startedAt - sentAt);
      // The job is done at once: the worker's last step, deleting the message, then back to polling.
      await deleteMessage(clients, got);
      if (i < order.length - 1) next = idlePoller.next(idleSignal);
    }
    const idleSeconds = (performance.now() - idleStarted) / 1000;
    const benchUsage = process.cpuUsage(cpuBefore.bench);
    const used = { bench: (benchUsage.user + benchUsage.system) / 1e6, emulator: cpuSeconds(emulator.pid) - cpuBefore.emulator };
    const otherLoadCores = load.otherLoadCores(used.bench + used.emulator);
    // Its long polls must not take the jobs of what follows.
    stopIdle.abort();
    await idlePoller.close();

    // After a job: each sample on a fresh poller, whose long polls all start together.
    const afterJob: number[] = [];
    let afterJobNotLongPolled = 0;
    const waitMs = config.worker.pollWaitSeconds * 1000;
    for (let i = 0; i < afterJobSamples; i++) {
      progress(`dispatch: a low job after a high one, sample ${i + 1} of ${afterJobSamples}`);
      const poller = newPoller();
      const sampleStop = new AbortController();
      const sampleSignal = AbortSignal.any([sampleStop.signal, signal]);
      const first = poller.next(sampleSignal);
      await sleep(Math.random() * waitMs);
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.tierQueueUrl.high, MessageBody: tinyJob('high') }), {
        abortSignal: signal,
      });
      const high = await first;
      if (!high) throw new Error('the poller stopped before the high job arrived');
      await deleteMessage(clients, high);
      const second = poller.next(sampleSignal);
      await sleep(Math.random() * waitMs);
      const sentAt = performance.now();
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: resources.tierQueueUrl.low, MessageBody: tinyJob('low') }), {
        abortSignal: signal,
      });
      const low = await second;
      const startedAt = performance.now();
      if (!low) throw new Error('the poller stopped before the low job arrived');
      afterJob.push(startedAt - sentAt);
      if (receives.waitSeconds(low.message.MessageId) === 0) afterJobNotLongPolled++;
      await deleteMessage(clients, low);
      sampleStop.abort();
      await poller.close();
    }

    return {
      settings: {
        pollWaitSeconds: config.worker.pollWaitSeconds,
        fairnessEvery: config.worker.fairnessEvery,
        idleBeforeSendMs: IDLE_BEFORE_SEND_MS,
      },
      idle: {
        high: tierResult(dispatch.high, sendRoundTrip.high, notLongPolled.high),
        low: tierResult(dispatch.low, sendRoundTrip.low, notLongPolled.low),
      },
      busy: { tier: 'low', jobs: backlogJobs, gap: latencyStats(gaps) },
      afterJob: afterJob.length > 0 ? { dispatch: latencyStats(afterJob), notLongPolled: afterJobNotLongPolled } : undefined,
      cpuPercent: { bench: round((100 * used.bench) / idleSeconds), emulator: round((100 * used.emulator) / idleSeconds) },
      otherLoadCores,
    };
  });
}

function tierResult(dispatch: number[], sendRoundTrip: number[], notLongPolled: number[]): DispatchLatencyResult['idle'][DispatchTier] {
  return {
    dispatch: latencyStats(dispatch),
    sendRoundTrip: latencyStats(sendRoundTrip),
    notLongPolled: notLongPolled.length > 0 ? latencyStats(notLongPolled) : undefined,
  };
}

/** The pollers' log at debug level: how each message was received (long poll or immediate receive). Warnings still go to stderr. */
class ReceiveLog {
  readonly logger: Logger;
  private readonly waits = new Map<string, number>();

  constructor() {
    const echoLevel = pino.levels.values[process.env.REELAY_LOG_LEVEL ?? 'warn'] ?? pino.levels.values.warn!;
    this.logger = pino(
      { level: 'debug', base: { role: 'bench-dispatch' } },
      {
        write: (line: string) => {
          const parsed = JSON.parse(line) as { level: number; msg?: string; messageId?: string; waitSeconds?: number };
          if (parsed.msg === 'received' && parsed.messageId && typeof parsed.waitSeconds === 'number')
            this.waits.set(parsed.messageId, parsed.waitSeconds);
          if (parsed.level >= echoLevel) process.stderr.write(line);
        },
      },
    );
  }

  /** The WaitTimeSeconds of the receive that returned the message (0: an immediate receive). */
  waitSeconds(messageId: string | undefined): number | undefined {
    return messageId === undefined ? undefined : this.waits.get(messageId);
  }
}

/** A well-formed transcode job for a video that does not exist: only the poller sees it. */
function tinyJob(priority: PriorityTier): string {
  const videoId = newVideoId();
  return jobMessage(transcodeJob({ videoId, priority, sourceKey: `uploads/${videoId}` })).MessageBody;
}

async function sendBacklog(clients: AwsClients, resources: ResolvedResources, tier: PriorityTier, count: number): Promise<void> {
  for (let first = 0; first < count; first += 10) {
    const Entries = Array.from({ length: Math.min(10, count - first) }, (_, i) => ({ Id: String(i), MessageBody: tinyJob(tier) }));
    const res = await clients.sqs.send(new SendMessageBatchCommand({ QueueUrl: resources.tierQueueUrl[tier], Entries }), {
      abortSignal: benchStopping,
    });
    if (res.Failed?.length) throw new Error(`SendMessageBatch failed for ${res.Failed.length} jobs: ${res.Failed[0]?.Message}`);
  }
}

async function deleteMessage(clients: AwsClients, got: ReceivedMessage): Promise<void> {
  await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: got.queueUrl, ReceiptHandle: got.message.ReceiptHandle }));
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
