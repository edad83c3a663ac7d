import {
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../core/aws.ts';
import { loadConfig, type SupervisorSettings } from '../core/config/index.ts';
import { newVideoId } from '../core/ids.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { resolveResources, type ResolvedResources } from '../core/resources.ts';
import { startEmulator, type RunningEmulator } from '../infra/emulator.ts';
import { provision } from '../infra/provision.ts';
import { sqsDepthSource } from '../workers/supervisor/queue-depth.ts';
import { Supervisor } from '../workers/supervisor/supervisor.ts';
import { uniquePrefix, waitFor } from './support/stack.ts';

/**
 * The supervisor against the real emulator with real forked worker
 * processes. The backlog it reacts to sits on a second set of tier queues
 * that no worker consumes, so it stays put while we watch; the depth is still
 * read through SQS GetQueueAttributes, as in production.
 */
const root = path.resolve(import.meta.dirname, '..');
let emulator: RunningEmulator;
let dataDir: string;
let clients: AwsClients;
let workerPrefix: string;
let backlog: ResolvedResources;
let supervisor: Supervisor | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'reelay-supervisor-'));
  emulator = await startEmulator({ port: 0, dataDir });
  const config = loadConfig({ AWS_ENDPOINT_URL: emulator.endpoint });
  clients = createAwsClients(config.aws);
  workerPrefix = uniquePrefix('sw');
  const backlogPrefix = uniquePrefix('sb');
  for (const prefix of [workerPrefix, backlogPrefix]) {
    await provision(clients, { prefix, region: config.aws.region, visibilityTimeoutSeconds: 30, maxAttempts: 3 }, silentLogger());
  }
  backlog = await resolveResources(clients, backlogPrefix);
});

afterAll(async () => {
  await supervisor?.stop();
  destroyAwsClients(clients);
  await emulator?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function sendJobs(queueUrl: string, count: number): Promise<void> {
  const Entries = Array.from({ length: count }, (_, i) => ({
    Id: String(i),
    MessageBody: JSON.stringify({ videoId: `v${i}`, priority: 'normal', sourceKey: `raw/v${i}`, enqueuedAt: new Date().toISOString() }),
  }));
  await clients.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries }));
}

const alive = (pid: number | undefined) => {
  try {
    return pid !== undefined && process.kill(pid, 0);
  } catch {
    return false;
  }
};

describe('supervisor', () => {
  it('counts jobs waiting and in flight, per tier', async () => {
    await sendJobs(backlog.tierQueueUrl.high, 3);
    await sendJobs(backlog.tierQueueUrl.low, 1);
    await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: backlog.tierQueueUrl.high, MaxNumberOfMessages: 2, VisibilityTimeout: 30 }),
    );
    const depth = sqsDepthSource(clients.sqs, backlog.tierQueueUrl);
    expect(await depth(new AbortController().signal)).toEqual({ high: 3, normal: 0, low: 1 });
    for (const tier of ['high', 'low'] as const) await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: backlog.tierQueueUrl[tier] }));
    expect(await depth(new AbortController().signal)).toEqual({ high: 0, normal: 0, low: 0 });
  });

  it('scales real worker processes up to max on a backlog, replaces a killed one, and back to min after the cooldown', async () => {
    const { logs, decisions, logger } = supervisorLog();
    const sup = await superviseRealWorkers(
      { minWorkers: 1, maxWorkers: 2, jobsPerWorker: 2, standbyWorkers: 0, pollMs: 500, scaleDownCooldownMs: 2000 },
      logger,
    );
    const metrics = async () => (await fetch(`http://127.0.0.1:${sup.port}/metrics`)).text();
    const reported = (n: number) => (sup.workers.length === n && sup.workers.every((w) => w.state !== undefined)) || undefined;

    // Empty queues: the minimum, one worker, which reports itself idle.
    await waitFor('the first worker to report', () => reported(1), 15_000);
    expect(sup.workers[0]!.state).toEqual({ busy: 0, concurrency: 1 });
    expect(await (await fetch(`http://127.0.0.1:${sup.port}/healthz`)).json()).toMatchObject({ status: 'ok', workers: 1, desired: 1 });
    expect(decisions('up')[0]).toMatchObject({ code: 'below-min', current: 0, desired: 1 });

    // 5 jobs at 2 per worker would need 3: capped at the maximum of 2, started at once.
    await sendJobs(backlog.tierQueueUrl.normal, 5);
    await waitFor('a second worker', () => reported(2), 15_000);
    expect(decisions('up').at(-1)).toMatchObject({ code: 'backlog', current: 1, desired: 2, count: 1, depth: { normal: 5 }, total: 5 });
    expect(decisions('up').at(-1)!.reason).toContain('capped at the maximum 2');
    expect(await metrics()).toMatch(/reelay_queue_depth\{tier="normal"\} 5\n[^]*reelay_workers 2\n[^]*reelay_workers_desired 2\n/);

    // kill -9 a worker: the supervisor notices and starts another.
    const victim = sup.workers[0]!.pid!;
    process.kill(victim, 'SIGKILL');
    await waitFor(
      'the killed worker to be replaced',
      () => (reported(2) && sup.workers.every((w) => w.pid !== victim)) || undefined,
      15_000,
    );
    expect(logs.find((l) => l.msg === 'worker exited unexpectedly')).toMatchObject({ workerPid: victim, signal: 'SIGKILL' });
    expect(decisions('up').at(-1)!.reason).toContain('replacing a worker that exited');
    expect(await metrics()).toContain('reelay_worker_restarts_total 1\n');
    // prom-client's default process metrics come with them.
    expect(await metrics()).toMatch(/^process_cpu_user_seconds_total \d/m);

    // Queue drained: one idle worker is stopped, but only once the cooldown has passed.
    const drainedAt = Date.now();
    await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: backlog.tierQueueUrl.normal }));
    const stopped = sup.workers.map((w) => w.pid);
    await waitFor('scale-down to the minimum', () => sup.workers.length === 1 || undefined, 10_000);
    expect(Date.now() - drainedAt).toBeGreaterThanOrEqual(2000);
    expect(decisions('hold').some((l) => l.code === 'cooldown')).toBe(true);
    expect(decisions('down').at(-1)).toMatchObject({ code: 'surplus', current: 2, desired: 1, count: 1, total: 0 });
    await waitFor('the stopped worker to exit', () => logs.find((l) => l.msg === 'worker stopped') ?? undefined, 10_000);
    expect(logs.find((l) => l.msg === 'worker stopped')).toMatchObject({ code: 0, signal: null });
    expect(await metrics()).toMatch(/reelay_scale_events_total\{direction="down"\} 1\n/);

    // Stopping takes every worker process with it.
    await sup.stop();
    await sup.stop(); // idempotent
    expect(stopped.filter(alive)).toEqual([]);
    expect(sup.workers).toHaveLength(0);
  }, 60_000);

  it('looks at the queues as soon as every worker is busy, not only at the next poll', async () => {
    const { decisions, logger } = supervisorLog();
    const pollMs = 120_000;
    const sup = await superviseRealWorkers(
      { minWorkers: 1, maxWorkers: 2, jobsPerWorker: 2, standbyWorkers: 0, pollMs, scaleDownCooldownMs: 600_000 },
      logger,
    );
    await waitFor('the first worker to report', () => (sup.workers.length === 1 && sup.workers[0]!.state) || undefined, 15_000);
    expect(decisions('up')).toHaveLength(1);

    // A backlog the worker does not consume: nothing happens before the next poll, two minutes away…
    await sendJobs(backlog.tierQueueUrl.normal, 4);
    // …until the one worker takes a job of its own (a video nobody stored: it is busy only for a moment).
    const startedAt = Date.now();
    const workerQueues = await resolveResources(clients, workerPrefix);
    const videoId = newVideoId();
    const job = { videoId, priority: 'normal', sourceKey: `uploads/${videoId}`, enqueuedAt: new Date().toISOString() };
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: workerQueues.tierQueueUrl.normal, MessageBody: JSON.stringify(job) }));
    await waitFor('a second worker', () => sup.workers.length === 2 || undefined, 15_000);
    expect(Date.now() - startedAt).toBeLessThan(pollMs / 2);
    expect(decisions('up').at(-1)).toMatchObject({ code: 'backlog', current: 1, desired: 2, count: 1, total: 4 });

    await sup.stop();
  }, 60_000);
});

describe('standby worker', () => {
  it('takes no job until a scale-up activates it, then polls at once; another standby replaces it', async () => {
    const { logs, logger } = supervisorLog();
    const workerQueues = await resolveResources(clients, workerPrefix);
    const queue = workerQueues.tierQueueUrl.normal;
    const videoId = newVideoId();
    const job = { videoId, priority: 'normal', sourceKey: `uploads/${videoId}`, enqueuedAt: new Date().toISOString() };
    // No backlog (the earlier test left one), and one job waiting on the workers' own queue before anything polls it.
    for (const url of [backlog.tierQueueUrl.normal, queue]) await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: JSON.stringify(job) }));
    const onQueue = async () => {
      const { Attributes: a = {} } = await clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queue,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return { visible: Number(a.ApproximateNumberOfMessages), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible) };
    };

    const sup = await superviseRealWorkers(
      { minWorkers: 0, maxWorkers: 2, jobsPerWorker: 2, standbyWorkers: 1, pollMs: 500, scaleDownCooldownMs: 600_000 },
      logger,
    );
    const standby = await waitFor('a standby worker ready', () => sup.standbys.find((w) => w.standby === 'ready'), 15_000);
    expect(sup.workers).toHaveLength(0);
    // A worker that polled would have received the visible job with its first ReceiveMessage. That a standby does
    // NOT poll can only be shown by letting time pass: this wait (two of a worker's 1 s long polls) is the test.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await onQueue()).toEqual({ visible: 1, inFlight: 0 });
    expect(standby.state).toBeUndefined();

    // A backlog: the scale-up activates the standby (same process), which takes the job at once.
    await sendJobs(backlog.tierQueueUrl.normal, 2);
    await waitFor('the standby to be activated and report', () => (sup.workers.length === 1 && sup.workers[0]!.state) || undefined, 15_000);
    expect(sup.workers[0]!.pid).toBe(standby.pid);
    expect(logs.find((l) => l.msg === 'standby worker activated')).toMatchObject({ workerPid: standby.pid });
    // (A video nobody stored: the worker puts the job back with a delay; it is in flight meanwhile.)
    await waitFor('the job to be taken', async () => (await onQueue()).visible === 0 || undefined, 15_000);
    // One worker runs, one more is allowed: a new standby is started.
    await waitFor('a new standby', () => sup.standbys.find((w) => w.pid !== standby.pid && w.standby === 'ready'), 15_000);
    expect(await (await fetch(`http://127.0.0.1:${sup.port}/metrics`)).text()).toMatch(/reelay_workers_standby 1\n/);

    const pids = [...sup.workers, ...sup.standbys].map((w) => w.pid);
    await sup.stop();
    expect(pids.filter(alive)).toEqual([]);
    await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: backlog.tierQueueUrl.normal }));
  }, 60_000);

  it('a scale-up that finds the standby still starting activates it, without starting another process', async () => {
    const { logs, logger } = supervisorLog();
    const sup = await superviseRealWorkers(
      { minWorkers: 1, maxWorkers: 2, jobsPerWorker: 2, standbyWorkers: 1, pollMs: 100, scaleDownCooldownMs: 600_000 },
      logger,
    );
    // The first round forked the worker and the standby; the backlog comes while both are still loading.
    const standby = await waitFor('the standby to be forked', () => sup.standbys[0], 5000);
    expect(standby.standby).toBe('starting');
    await sendJobs(backlog.tierQueueUrl.normal, 4);
    await waitFor('two workers reporting', () => (sup.workers.length === 2 && sup.workers.every((w) => w.state)) || undefined, 20_000);
    expect(sup.workers.map((w) => w.pid)).toContain(standby.pid);
    const activated = logs.find((l) => l.msg === 'standby worker activated');
    // (A worker process needs about a second to load; the supervisor polls every 100 ms.)
    expect(activated).toMatchObject({ workerPid: standby.pid, ready: false });
    // Only the two processes of the first round were ever started (none is wanted as standby at the maximum).
    expect(logs.filter((l) => l.msg === 'worker started' || l.msg === 'standby worker started')).toHaveLength(2);
    await sup.stop();
    await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: backlog.tierQueueUrl.normal }));
  }, 60_000);
});

describe('standby worker, when it cannot start', () => {
  it('backs off on its own and holds back neither scaling up nor the workers that run', async () => {
    const { logs, logger, decisions } = supervisorLog();
    let depth = 0;
    supervisor = await new Supervisor({
      settings: { minWorkers: 1, maxWorkers: 3, jobsPerWorker: 2, standbyWorkers: 1, pollMs: 200, scaleDownCooldownMs: 600_000, port: 0 },
      depth: async () => ({ high: 0, normal: depth, low: 0 }),
      worker: { script: path.join(root, 'test/support/fake-worker.ts'), execArgv: ['--disable-warning=ExperimentalWarning'], env: {} },
      workerStopTimeoutMs: 5000,
      logger,
    }).start();
    const sup = supervisor;
    const standbyDeaths = () => logs.filter((l) => l.msg === 'standby worker exited unexpectedly');
    await waitFor('three standbys to die', () => standbyDeaths().length >= 3 || undefined, 20_000);
    // Each failure doubles the wait before the next standby alone: 1 s, 2 s, 4 s.
    expect(
      standbyDeaths()
        .slice(0, 3)
        .map((l) => l.nextStandbyAfterMs),
    ).toEqual([1000, 2000, 4000]);
    expect(sup.workers).toHaveLength(1);

    // A backlog while standbys keep failing: new processes are started at once, as if there were no standby.
    depth = 6;
    await waitFor('three workers', () => (sup.workers.length === 3 && sup.workers.every((w) => w.state)) || undefined, 10_000);
    expect(decisions('up').at(-1)).toMatchObject({ code: 'backlog', current: 1, count: 2 });
    expect(decisions('up').at(-1)!.reason).not.toContain('replacing');
    expect(decisions('hold').filter((l) => String(l.reason).includes('failed starts'))).toEqual([]);
    await sup.stop();
  }, 60_000);
});

describe('standby worker, when it hangs while starting', () => {
  it('is killed and replaced after the start timeout, instead of counting as the standby for ever (#23 item 12)', async () => {
    const { logs, logger } = supervisorLog();
    supervisor = await new Supervisor({
      settings: { minWorkers: 1, maxWorkers: 3, jobsPerWorker: 2, standbyWorkers: 1, pollMs: 200, scaleDownCooldownMs: 600_000, port: 0 },
      depth: async () => ({ high: 0, normal: 0, low: 0 }),
      worker: {
        script: path.join(root, 'test/support/fake-worker.ts'),
        execArgv: ['--disable-warning=ExperimentalWarning'],
        env: { FAKE_STANDBY: 'hang' },
      },
      workerStopTimeoutMs: 5000,
      standbyStartTimeoutMs: 1500,
      logger,
    }).start();
    const sup = supervisor;
    const killed = () => logs.filter((l) => l.msg === 'standby worker did not get ready in time; killed, to be replaced');
    await waitFor('two stuck standbys replaced', () => killed().length >= 2 || undefined, 20_000);
    const [first, second] = killed();
    expect(first!.workerPid).not.toBe(second!.workerPid);
    expect(first!.startingMs).toBeGreaterThanOrEqual(1500);
    // Gone for good (SIGKILL: it ignored SIGTERM), and a newer standby stands in its place.
    await waitFor('the stuck process to be gone', () => (isAlive(first!.workerPid) ? undefined : true), 5000);
    expect(sup.standbys.map((w) => w.pid)).not.toContain(first!.workerPid);
    expect(sup.workers).toHaveLength(1);
    await sup.stop();
  }, 60_000);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The supervisor's log lines, parsed. */
function supervisorLog() {
  const logs: Record<string, any>[] = [];
  const logger = pino({ level: 'debug', base: { role: 'supervisor' } }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  return { logs, logger, decisions: (decision: string) => logs.filter((l) => l.decision === decision) };
}

/** A supervisor of real worker processes (workerProcess) whose queue depth is read from the `backlog` queues. */
async function superviseRealWorkers(settings: Omit<SupervisorSettings, 'port'>, logger: Logger): Promise<Supervisor> {
  supervisor = await new Supervisor({
    settings: { ...settings, port: 0 },
    depth: sqsDepthSource(clients.sqs, backlog.tierQueueUrl),
    worker: workerProcess(),
    workerStopTimeoutMs: 10_000,
    logger,
  }).start();
  return supervisor;
}

/** Real `workers/transcode/main.ts` processes on the worker prefix's queues. */
function workerProcess() {
  return {
    script: path.join(root, 'workers/transcode/main.ts'),
    execArgv: ['--disable-warning=ExperimentalWarning'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ENDPOINT_URL: emulator.endpoint,
      REELAY_PREFIX: workerPrefix,
      REELAY_POLL_WAIT_SECONDS: '1',
      REELAY_WORKER_METRICS_PORT: '0',
      REELAY_LOG_LEVEL: process.env.REELAY_TEST_LOG ?? 'warn',
    },
  };
}
