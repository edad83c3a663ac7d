import { DeleteMessageCommand } from '@aws-sdk/client-sqs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../core/aws.ts';
import type { TranscodeWorker } from '../workers/transcode/worker.ts';
import { startTestStack, startTestWorker, waitFor, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';

/**
 * Issue #13: when extending a job's visibility fails because its receipt
 * handle is no longer valid (another worker received it, or deleted it), the
 * worker aborts its copy of the job at once (ffmpeg included) and touches
 * neither the status nor the message. Real emulator, real ffmpeg.
 */
const clip = path.resolve(import.meta.dirname, '../samples/landscape-720p-audio.mp4');
let stack: TestStack;
let worker: TranscodeWorker | undefined;

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false, env: { REELAY_VISIBILITY_TIMEOUT_SECONDS: '4', REELAY_HEARTBEAT_SECONDS: '1' } });
});
afterAll(async () => {
  await worker?.stop({ graceMs: 1000 });
  await stack?.stop();
});

describe('a visibility heartbeat that finds the receipt handle invalid', () => {
  it('aborts the job and leaves the video to the worker that owns it now', async () => {
    // The worker's own SQS client; on its first heartbeat "another worker" finishes with the message first
    // (deletes it with the handle it got), so SQS genuinely refuses the extension.
    const sqs = createAwsClients(stack.config.aws).sqs;
    let stolen = false;
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (!stolen && context.commandName === 'ChangeMessageVisibilityCommand') {
          stolen = true;
          const { QueueUrl, ReceiptHandle } = args.input as { QueueUrl: string; ReceiptHandle: string };
          await stack.clients.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle }));
        }
        return next(args);
      },
      { step: 'initialize', name: 'stealTheJob' },
    );
    worker = startTestWorker({ ...stack, clients: { ...stack.clients, sqs } }, { concurrency: 1, preset: 'veryslow' });
    const id = await upload(stack.baseUrl, clip);
    await waitFor('the job to start', async () => ((await stack.store.get(id))?.status === 'processing' ? true : undefined), 30_000);

    // Within a few heartbeats, not after the (veryslow) transcode: the worker has let go.
    await waitFor('the worker to abandon the job', () => (worker!.stats.abandoned === 1 && worker!.busy === 0 ? true : undefined), 15_000);
    expect(stolen).toBe(true);
    expect(worker.stats).toMatchObject({ ready: 0, failed: 0, retried: 0, abandoned: 1 });
    // The status is the other worker's business: this one wrote nothing after starting.
    expect(await stack.store.get(id)).toMatchObject({ status: 'processing', attempts: 1 });
  });
});
