import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { createLogger, silentLogger, type Logger } from '../core/logger.ts';
import { redriveDlq } from '../workers/transcode/redrive.ts';
import type { TranscodeWorker } from '../workers/transcode/worker.ts';
import { faultyS3 } from './support/faults.ts';
import { startTestStack, startTestWorker, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';

/**
 * Issue #13, defects 1 and 4 against the real emulator: a job whose video has
 * no status document ends in the DLQ instead of looping; no path of the worker
 * or of redrive reopens a finished video.
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
});
afterAll(async () => {
  await stack?.stop();
});

/** A logger that keeps its lines, to count them. */
function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[]; raw: () => string[] } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      out.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: createLogger('worker', { level: 'debug', destination: sink }),
    lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>),
    raw: () => out,
  };
}

describe('a job whose video has no status document', () => {
  it('is dead-lettered with unknown_video after its attempts, and logged once', async () => {
    const { logger, lines } = capturingLogger();
    worker = startTestWorker({ ...stack, logger }, { maxAttempts: 2, concurrency: 1 });
    const videoId = ulid();
    const job = { videoId, priority: 'low', sourceKey: `uploads/${videoId}`, enqueuedAt: new Date().toISOString() };
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.tierQueueUrl.low, MessageBody: JSON.stringify(job) }));

    const dead = await waitFor(
      'the job in the low DLQ',
      async () => {
        const { Messages = [] } = await stack.clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: stack.resources.tierDlqUrl.low, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
        );
        return Messages[0];
      },
      30_000,
    );
    expect(JSON.parse(dead.Body!)).toMatchObject({ videoId });
    expect(dead.MessageAttributes?.code?.StringValue).toBe('unknown_video');
    // The job's own queue is empty: it did not come back.
    const { Messages: left = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.resources.tierQueueUrl.low, WaitTimeSeconds: 2 }),
    );
    expect(left).toHaveLength(0);
    const aboutIt = lines().filter((l) => l.videoId === videoId && ['warn', 'error', 'fatal'].includes(l.level as string));
    expect(aboutIt).toHaveLength(1);
    expect(aboutIt[0]).toMatchObject({ code: 'unknown_video', attempts: 2 });
  });
});

describe('a finished video is never reopened', () => {
  it('a duplicate worker whose attempt fails after another finished the video does not set it back to queued', async () => {
    const id = await upload(stack.baseUrl, clip, { contentType: 'video/x-matroska', params: { priority: 'normal', title: 'race' } });
    const statusKey = `status/${id}.json`;
    // The worker's thumbnail upload, after ffmpeg, fails (a transient error; a failed HLS segment upload while
    // ffmpeg runs would be retried by the segment publisher itself, not fail the attempt). Between its failure
    // handling's read of the status and its write, "another worker" finishes the video: the window of the race.
    const { s3, faults } = faultyS3(stack.config.aws, {
      when: (command, input) => command === 'PutObjectCommand' && input.Key === `videos/${id}/thumbnail.jpg`,
      remaining: 1,
    });
    let finishedElsewhere: string | undefined;
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const key = (args.input as { Key?: string }).Key;
        if (faults.injected === 1 && !finishedElsewhere && context.commandName === 'GetObjectCommand' && key === statusKey) {
          finishedElsewhere = new Date().toISOString();
          const doc = (await stack.store.get(id))!;
          await stack.store.put({ ...doc, status: 'ready', finishedAt: finishedElsewhere, progress: 100 });
        }
        return result;
      },
      { step: 'initialize', name: 'finishElsewhere' },
    );
    const { logger, raw } = capturingLogger();
    worker = startTestWorker({ ...stack, logger }, { s3, concurrency: 1, maxAttempts: 3 });
    // The retried delivery finds the video finished and does nothing: that is the sign the failure path left it ready.
    await waitFor('the retried delivery to be seen as a duplicate', () => (worker!.stats.duplicates === 1 ? true : undefined), 30_000);
    expect(faults.injected).toBe(1);
    const after = (await stack.store.get(id))!;
    expect(after).toMatchObject({ status: 'ready', attempts: 1, finishedAt: finishedElsewhere });
    expect(worker.stats).toMatchObject({ ready: 0, duplicates: 1, retried: 1 });
    // Issue #16 defect 6: each key once per line, checked on the raw text (JSON.parse hides a repeated key).
    // The "transcoding" line used to carry videoId twice (the worker's child logger and the job's).
    const jobLines = raw().filter((l) => l.includes(id));
    expect(jobLines.some((l) => l.includes('"msg":"transcoding"'))).toBe(true);
    for (const line of jobLines) expect(line.match(/"videoId":/g)).toHaveLength(1);
    s3.destroy();
  });

  it('redrive leaves a ready video ready (a stale job of it in the DLQ is skipped)', async () => {
    worker = startTestWorker(stack);
    const id = await upload(stack.baseUrl, clip, {
      contentType: 'video/x-matroska',
      params: { priority: 'normal', title: 'redrive-ready' },
    });
    expect((await waitForFinalStatus(stack.baseUrl, id)).status).toBe('ready');
    await worker.stop();
    worker = undefined;
    const before = (await stack.store.get(id))!;
    const job = { videoId: id, priority: 'normal', sourceKey: before.source.key, enqueuedAt: new Date().toISOString() };
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.tierDlqUrl.normal, MessageBody: JSON.stringify(job) }));
    const result = await redriveDlq({
      sqs: stack.clients.sqs,
      store: stack.store,
      dlqUrl: stack.resources.tierDlqUrl.normal,
      queueUrl: stack.resources.tierQueueUrl.normal,
      logger: silentLogger(),
    });
    expect(result.moved).toEqual([]);
    expect(result.skipped).toMatchObject([{ videoId: id, reason: 'not_failed' }]);
    expect(await stack.store.get(id)).toEqual(before);
  });
});
