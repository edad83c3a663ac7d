import { DeleteMessageCommand, PurgeQueueCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { PRIORITY_TIERS, type PriorityTier } from '../core/resources.ts';
import { redriveDlq } from '../workers/transcode/redrive.ts';
import { TierPoller } from '../workers/transcode/tier-poller.ts';
import type { TranscodeWorker } from '../workers/transcode/worker.ts';
import { faultyS3, faultySns } from './support/faults.ts';
import { recordingSqs, type SqsCall } from './support/recording-sqs.ts';
import { startTestStack, startTestWorker, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';

/**
 * The worker fleet's promises, against the real emulator and real ffmpeg:
 * priority order, no starvation, duplicate deliveries, retries, DLQ, redrive.
 */
const clip = path.resolve(import.meta.dirname, '../samples/small-480p.mkv');
let stack: TestStack;
let worker: TranscodeWorker | undefined;

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false, env: { REELAY_RETRY_BASE_SECONDS: '1', REELAY_POLL_WAIT_SECONDS: '1' } });
});
afterEach(async () => {
  await worker?.stop({ graceMs: 5000 });
  worker = undefined;
  // Every test starts from empty tier queues and DLQs, whatever the one before left (even when it failed half-way).
  const { tierQueueUrl, tierDlqUrl } = stack.resources;
  for (const QueueUrl of [...Object.values(tierQueueUrl), ...Object.values(tierDlqUrl)]) {
    await stack.clients.sqs.send(new PurgeQueueCommand({ QueueUrl }));
  }
});
afterAll(async () => {
  await stack?.stop();
});

/** The clip, uploaded at `priority` with `title`. */
const uploadClip = (priority: PriorityTier, title: string) =>
  upload(stack.baseUrl, clip, { contentType: 'video/x-matroska', params: { priority, title } });

const eventsFor = (id: string, type: string) => stack.notifier.recent.filter((e) => e.subject === id && e.type === type);

describe('scheduling', () => {
  it('with the worker busy and low jobs waiting, a new high job is the next to start', async () => {
    worker = startTestWorker(stack, { concurrency: 1 });
    const lows = [await uploadClip('low', 'low-1'), await uploadClip('low', 'low-2'), await uploadClip('low', 'low-3')];
    await waitFor('the first low job to start', async () =>
      (await stack.store.get(lows[0]!))?.status === 'processing' ? true : undefined,
    );
    const high = await uploadClip('high', 'high');
    const all = await Promise.all([...lows, high].map((id) => waitForFinalStatus(stack.baseUrl, id)));
    const byStart = [...all].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt)).map((v) => v.title);
    expect(byStart).toEqual(['low-1', 'high', 'low-2', 'low-3']);
  });

  it('under a sustained stream of high jobs, low jobs still get one job in N', async () => {
    const { sqs } = stack.clients;
    const urls = stack.resources.tierQueueUrl;
    const send = (tier: PriorityTier, n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) => sqs.send(new SendMessageCommand({ QueueUrl: urls[tier], MessageBody: `${tier}-${i}` }))),
      );
    await send('high', 20);
    await send('low', 3);
    const poller = new TierPoller({
      sqs,
      queueUrls: urls,
      waitSeconds: 1,
      visibilityTimeoutSeconds: 30,
      fairnessEvery: 5,
      logger: silentLogger(),
    });
    const abort = new AbortController();
    const taken: string[] = [];
    for (let i = 0; i < 15; i++) {
      const got = (await poller.next(abort.signal))!;
      taken.push(got.tier);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: got.queueUrl, ReceiptHandle: got.message.ReceiptHandle }));
    }
    abort.abort();
    await poller.close();
    // Jobs 5, 10 and 15 come from the bottom while 20 high jobs are waiting.
    expect(taken.map((t, i) => (t === 'low' ? i + 1 : 0)).filter(Boolean)).toEqual([5, 10, 15]);
  });
});

describe('polling without gaps or inversions', () => {
  // The poller's SQS calls are recorded, so each step waits for the poller's state instead of a time that usually covers it.
  const poller = (sqs: SQSClient) =>
    new TierPoller({
      sqs,
      queueUrls: stack.resources.tierQueueUrl,
      waitSeconds: 4,
      visibilityTimeoutSeconds: 30,
      fairnessEvery: 10,
      logger: silentLogger(),
    });
  const send = (tier: PriorityTier, body: string) =>
    stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.tierQueueUrl[tier], MessageBody: body }));
  const done = (got: { queueUrl: string; message: { ReceiptHandle?: string } }) =>
    stack.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: got.queueUrl, ReceiptHandle: got.message.ReceiptHandle }));
  const longPolls = (calls: SqsCall[], tier: PriorityTier) =>
    calls.filter((c) => c.command === 'ReceiveMessageCommand' && c.queueUrl === stack.resources.tierQueueUrl[tier] && c.waitSeconds! > 0);
  const everyTierLongPolling = (calls: SqsCall[]) =>
    PRIORITY_TIERS.every((tier) => longPolls(calls, tier).some((c) => !c.ended)) || undefined;

  it('a tier whose long poll came back empty is watched again at once', async () => {
    const { sqs, calls } = recordingSqs(stack.config.aws);
    const p = poller(sqs);
    const abort = new AbortController();
    const first = p.next(abort.signal);
    await waitFor('a long poll on every tier', () => everyTierLongPolling(calls));
    // This wait builds the scenario, no condition can stand in for it: the high tier's next poll starts a second
    // after the others, so when the low tier's poll comes back empty the high one still runs for about a second.
    // In that window only an immediate new poll of the low tier can catch a low job (once every poll has ended,
    // the poller starts a new cycle anyway, which would hide a missing one).
    await new Promise((r) => setTimeout(r, 1000));
    await send('high', 'h');
    await done((await first)!);
    const second = p.next(abort.signal);
    await waitFor("the low tier's first long poll to come back empty", () => longPolls(calls, 'low')[0]?.messages === 0 || undefined);
    expect(longPolls(calls, 'high').at(-1)?.ended, "the high tier's new poll runs on").toBe(false);
    const sent = Date.now();
    await send('low', 'l');
    const got = (await second)!;
    const latency = Date.now() - sent;
    await done(got);
    expect(got.tier).toBe('low');
    expect(latency).toBeLessThan(400);
    abort.abort();
    await p.close();
    sqs.destroy();
  });

  it('a high job handed back while the worker was busy is not overtaken by a waiting low job', async () => {
    const { sqs, calls } = recordingSqs(stack.config.aws);
    const p = poller(sqs);
    const abort = new AbortController();
    const first = p.next(abort.signal);
    await waitFor('a long poll on every tier', () => everyTierLongPolling(calls));
    await send('low', 'low-1');
    const job = (await first)!;
    expect(job.tier).toBe('low');
    // Busy with low-1: another low job waits, and the stale high poll catches a high job and hands it back.
    await send('low', 'low-2');
    await send('high', 'high-1');
    await waitFor(
      'the stale high poll to hand high-1 back',
      () =>
        calls.some((c) => c.command === 'ChangeMessageVisibilityCommand' && c.queueUrl === stack.resources.tierQueueUrl.high && c.ended) ||
        undefined,
    );
    await done(job);
    const next = (await p.next(abort.signal))!;
    expect(next.message.Body).toBe('high-1');
    await done(next);
    const last = (await p.next(abort.signal))!;
    expect(last.message.Body).toBe('low-2');
    await done(last);
    abort.abort();
    await p.close();
    sqs.destroy();
  });
});

describe('delivery and failures', () => {
  it('a duplicate delivery of a finished job does no work and announces nothing again', async () => {
    worker = startTestWorker(stack);
    const id = await uploadClip('normal', 'dup');
    expect((await waitForFinalStatus(stack.baseUrl, id)).status).toBe('ready');
    await waitFor('video.ready', () => eventsFor(id, 'video.ready')[0]);
    // The status records the announcement just after the event goes out.
    const first = await waitFor('the announcement to be recorded', async () => {
      const doc = await stack.store.get(id);
      return doc?.announced ? doc : undefined;
    });

    const job = { videoId: id, priority: 'normal', sourceKey: first.source.key, enqueuedAt: new Date().toISOString() };
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.resources.tierQueueUrl.normal, MessageBody: JSON.stringify(job) }),
    );
    await waitFor('the duplicate to be consumed', () => (worker!.stats.duplicates === 1 ? true : undefined));
    // The duplicate delivery has been handled (and any publish of it returned): once the notifier's queue is
    // empty, an event it published would be in notifier.recent.
    await stack.notifierDrained();
    expect(eventsFor(id, 'video.ready')).toHaveLength(1);
    expect(eventsFor(id, 'video.processing')).toHaveLength(1);
    const after = (await stack.store.get(id))!;
    expect(after).toMatchObject({ status: 'ready', attempts: 1, updatedAt: first.updatedAt });
  });

  it('a transient S3 failure is retried with back-off and then succeeds', async () => {
    // The thumbnail, stored after ffmpeg: a failed HLS segment upload while ffmpeg runs is retried by the
    // segment publisher itself at its next look (#21), so it would not fail the attempt.
    const { s3, faults } = faultyS3(stack.config.aws, {
      when: (command, input) => command === 'PutObjectCommand' && /^videos\/.+\/thumbnail\.jpg$/.test(input.Key ?? ''),
      remaining: 1,
    });
    worker = startTestWorker(stack, { s3, maxAttempts: 3 });
    const id = await uploadClip('normal', 'flaky');
    const video = await waitForFinalStatus(stack.baseUrl, id);
    expect(faults.injected).toBe(1);
    expect(video).toMatchObject({ status: 'ready', attempts: 2 });
    expect(video.lastError).toBeUndefined();
    await waitFor('video.ready', () => eventsFor(id, 'video.ready')[0]);
    expect(eventsFor(id, 'video.processing').map((e) => (e.data as { attempt: number }).attempt)).toEqual([1, 2]);
    expect(eventsFor(id, 'video.failed')).toHaveLength(0);
    s3.destroy();
  });

  it('a failure that persists ends in the DLQ with a failed status and video.failed; redrive then finishes it', async () => {
    const { s3, faults } = faultyS3(stack.config.aws, {
      when: (command, input) => command === 'PutObjectCommand' && (input.Key ?? '').startsWith('videos/'),
      remaining: 1000,
    });
    worker = startTestWorker(stack, { s3, maxAttempts: 2 });
    const id = await uploadClip('low', 'doomed');
    const video = await waitForFinalStatus(stack.baseUrl, id);
    expect(video).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'attempts_exhausted' } });
    expect(video.error.message).toMatch(/injected fault/);
    const failed = await waitFor('video.failed', () => eventsFor(id, 'video.failed')[0]);
    expect(failed.data).toMatchObject({ attempts: 2, code: 'attempts_exhausted' });
    expect(faults.injected).toBeGreaterThanOrEqual(2);
    await worker.stop();
    s3.destroy();

    // The outage is over: redrive the DLQ and a healthy worker finishes the video.
    const result = await redriveDlq({
      sqs: stack.clients.sqs,
      store: stack.store,
      dlqUrl: stack.resources.tierDlqUrl.low,
      queueUrl: stack.resources.tierQueueUrl.low,
      logger: silentLogger(),
    });
    expect(result.moved).toEqual([id]);
    expect(await stack.store.get(id)).toMatchObject({ status: 'queued', attempts: 0, lastError: { code: 'attempts_exhausted' } });
    worker = startTestWorker(stack);
    expect(await waitForFinalStatus(stack.baseUrl, id)).toMatchObject({ status: 'ready', attempts: 1 });
  });

  it('a transcode past its time limit is killed and counted as a failed attempt', async () => {
    // Limit: 1 × the 4 s duration; x264 `veryslow` needs far longer than that for 720p.
    worker = startTestWorker(stack, { preset: 'veryslow', maxAttempts: 1, jobTimeoutFactor: 1, jobTimeoutMinMs: 1000 });
    const res = await fetch(`${stack.baseUrl}/v1/videos`, {
      method: 'POST',
      headers: { 'content-type': 'video/mp4' },
      body: await readFile(path.resolve(import.meta.dirname, '../samples/landscape-720p-audio.mp4')),
    });
    const { id } = (await res.json()) as { id: string };
    const video = await waitForFinalStatus(stack.baseUrl, id, 60_000);
    expect(video).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'attempts_exhausted', message: 'ffmpeg exceeded the time limit of 4s' },
    });
    expect(Date.parse(video.finishedAt) - Date.parse(video.startedAt)).toBeLessThan(15_000);
  });

  it('when publishing video.ready fails, the video stays ready and the next delivery announces it once', async () => {
    const { sns, faults } = faultySns(stack.config.aws, { when: (m) => m.includes('"type":"video.ready"'), remaining: 1 });
    worker = startTestWorker(stack, { sns });
    const id = await uploadClip('normal', 'quiet');
    await waitFor('the video.ready event', () => eventsFor(id, 'video.ready')[0], 30_000);
    expect(faults.injected).toBe(1);
    const video = await waitFor('the announcement to be recorded', async () => {
      const doc = await stack.store.get(id);
      return doc?.announced ? doc : undefined;
    });
    expect(video).toMatchObject({ status: 'ready', attempts: 1, announced: true });
    // No publisher left (the worker has stopped), and the notifier's queue empty: a second video.ready
    // would be in notifier.recent by now.
    await worker.stop();
    await stack.notifierDrained();
    expect(eventsFor(id, 'video.ready')).toHaveLength(1);
    sns.destroy();
  });
});
