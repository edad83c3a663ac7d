import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from '../api/start-api.ts';
import { silentLogger } from '../core/logger.ts';
import { PendingJobs } from '../core/pending-jobs.ts';
import type { TranscodeWorker } from '../workers/transcode/worker.ts';
import { faultyS3, faultySqs } from './support/faults.ts';
import { startTestStack, startTestWorker, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { postVideo } from './support/upload.ts';

/**
 * Issue #13 defect 7, with injected faults against the real emulator: when
 * sending the job and then the compensating status write both fail, the
 * upload is kept (202, `queued`) and the pending-job sweep sends its job, so
 * a worker makes it ready. Nothing stays `queued` for ever.
 */
const clip = path.resolve(import.meta.dirname, '../samples/small-480p.mkv');
let stack: TestStack;
let api: RunningApi | undefined;
let worker: TranscodeWorker | undefined;

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
});
afterAll(async () => {
  await api?.stop();
  await worker?.stop();
  await stack?.stop();
});

describe('a job that could not be sent nor recorded', () => {
  it('is sent by the pending-job sweep, and the video becomes ready', async () => {
    const { sqs, faults: sendFaults } = faultySqs(stack.config.aws, {
      when: (command, input) =>
        command === 'SendMessageCommand' && Object.values(stack.resources.tierQueueUrl).includes(input.QueueUrl ?? ''),
      remaining: 1,
    });
    // The compensating write is the one status write with If-Match (the document's creation has If-None-Match).
    const { s3, faults: writeFaults } = faultyS3(stack.config.aws, {
      when: (command, input) =>
        command === 'PutObjectCommand' &&
        (input.Key ?? '').startsWith('status/') &&
        (input as { IfNoneMatch?: string }).IfNoneMatch !== '*',
      remaining: 1,
    });
    const clients = { ...stack.clients, s3, sqs };
    api = await startApi({
      config: stack.config,
      clients,
      resources: stack.resources,
      logger: silentLogger(),
      listen: { host: '127.0.0.1', port: 0 },
    });

    const res = await postVideo(api.url, clip, { contentType: 'video/x-matroska', params: { priority: 'low' } });
    expect([sendFaults.injected, writeFaults.injected]).toEqual([1, 1]);
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect(await stack.store.get(id)).toMatchObject({ status: 'queued', attempts: 0 });
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.resources.tierQueueUrl.low, WaitTimeSeconds: 1 }),
    );
    expect(Messages).toHaveLength(0);

    const pending = new PendingJobs({
      s3: stack.clients.s3,
      sqs: stack.clients.sqs,
      mediaBucket: stack.resources.names.mediaBucket,
      queueUrls: stack.resources.tierQueueUrl,
      store: stack.store,
      logger: silentLogger(),
    });
    // Not yet: the marker is younger than the limit (a job being sent right now is not sent twice).
    expect(await pending.sweep()).toEqual({ requeued: [], cleared: [] });
    expect(await pending.sweep({ minAgeMs: 0 })).toEqual({ requeued: [id], cleared: [] });
    // Idempotent: the marker is gone, a second sweep sends nothing.
    expect(await pending.sweep({ minAgeMs: 0 })).toEqual({ requeued: [], cleared: [] });

    worker = startTestWorker(stack);
    expect(await waitForFinalStatus(stack.baseUrl, id)).toMatchObject({ status: 'ready', attempts: 1 });
  });
});
