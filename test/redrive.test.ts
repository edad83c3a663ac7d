import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TranscodeWorker } from '../workers/transcode/worker.ts';
import { faultyS3 } from './support/faults.ts';
import { startTestStack, startTestWorker, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';

/**
 * `npm run redrive` as an operator runs it: a real process beside a running
 * stack (emulator, API, a worker), against a DLQ that holds one video whose
 * retries ran out during an outage and three that can never become a video.
 * It must end — a permanent failure goes straight back to the DLQ, which the
 * old loop redrove forever — and say what it did.
 */
const root = path.resolve(import.meta.dirname, '..');
let stack: TestStack;
let worker: TranscodeWorker | undefined;
let dir: string;
const ids: Record<'outage' | 'garbage' | 'image' | 'audio', string> = { outage: '', garbage: '', image: '', audio: '' };
const codes: Record<'outage' | 'garbage' | 'image' | 'audio', string> = { outage: '', garbage: '', image: '', audio: '' };

function redrive(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', './bin/require-node.mjs', 'workers/transcode/redrive-main.ts', ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ENDPOINT_URL: stack.config.aws.endpoint,
      REELAY_PREFIX: stack.config.prefix,
      REELAY_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Before the fix a redrive with permanent failures in the DLQ never ended: 60 s is far more than it needs.
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

async function dlqDepth(): Promise<number> {
  const { Attributes = {} } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.resources.tierDlqUrl.low,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
  dir = await mkdtemp(path.join(tmpdir(), 'reelay-redrive-'));
  const ff = (...args: string[]) => promisify(execFile)(stack.binaries.ffmpeg.path, ['-v', 'error', '-y', ...args]);
  await writeFile(path.join(dir, 'garbage.mp4'), randomBytes(32 * 1024));
  await ff('-f', 'lavfi', '-i', 'testsrc=size=320x240', '-frames:v', '1', '-f', 'image2', '-c:v', 'png', path.join(dir, 'image.mp4'));
  await ff('-f', 'lavfi', '-i', 'sine=duration=2', '-c:a', 'aac', '-f', 'mp4', path.join(dir, 'audio.mp4'));

  // An S3 outage while outputs are written: the good clip's one attempt fails, its job is dead-lettered.
  const { s3 } = faultyS3(stack.config.aws, {
    when: (command, input) => command === 'PutObjectCommand' && (input.Key ?? '').startsWith('videos/'),
    remaining: 1000,
  });
  worker = startTestWorker(stack, { s3, maxAttempts: 1 });
  const low = { params: { priority: 'low' } };
  ids.outage = await upload(stack.baseUrl, path.join(root, 'samples/small-480p.mkv'), { ...low, contentType: 'video/x-matroska' });
  ids.garbage = await upload(stack.baseUrl, path.join(dir, 'garbage.mp4'), low);
  ids.image = await upload(stack.baseUrl, path.join(dir, 'image.mp4'), low);
  ids.audio = await upload(stack.baseUrl, path.join(dir, 'audio.mp4'), low);
  const failed = await Promise.all(Object.values(ids).map((id) => waitForFinalStatus(stack.baseUrl, id, 150_000)));
  expect(failed.map((v) => v.status)).toEqual(['failed', 'failed', 'failed', 'failed']);
  // The outage is transient; the three bad files fail permanently, each with a code of its own.
  [codes.outage, codes.garbage, codes.image, codes.audio] = failed.map((v) => String(v.error?.code)) as [string, string, string, string];
  expect(codes.outage).toBe('attempts_exhausted');
  expect(new Set([codes.garbage, codes.image, codes.audio, codes.outage]).size).toBe(4);
  await waitFor('four jobs in the DLQ', async () => ((await dlqDepth()) === 4 ? true : undefined));
  await worker.stop({ graceMs: 5000 });
  s3.destroy();
  // The outage is over; the stack runs on with a healthy worker.
  worker = startTestWorker(stack);
}, 240_000);

afterAll(async () => {
  await worker?.stop({ graceMs: 5000 });
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm run redrive', () => {
  it('--dry-run says what it would move and moves nothing', async () => {
    const run = await redrive('--dry-run');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`would move  ${ids.outage}`);
    expect(run.stdout).toMatch(/skipped 3: permanent failure/);
    expect(run.stdout).toMatch(/redrive \(dry run\): would move 1, skipped 3\n$/);
    expect(await dlqDepth()).toBe(4);
    expect((await stack.store.get(ids.outage))?.status).toBe('failed');
  }, 70_000);

  it('moves the transient failure once, leaves the permanent ones, prints a summary and exits', async () => {
    const run = await redrive();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('low: 4 in the dead-letter queue at the start');
    expect(run.stdout).toContain(`moved  ${ids.outage}`);
    expect(run.stdout).toContain(`${ids.image} (${codes.image})`);
    expect(run.stdout).toMatch(/redrive: moved 1, skipped 3\n$/);
    expect(await waitForFinalStatus(stack.baseUrl, ids.outage)).toMatchObject({ status: 'ready', attempts: 1 });
    expect(await dlqDepth()).toBe(3);
  }, 70_000);

  it('--include-permanent with --code moves those once each and still ends though they fail straight back', async () => {
    const run = await redrive('low', '--include-permanent', '--code', `${codes.image},${codes.audio}`);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`moved  ${ids.image}`);
    expect(run.stdout).toContain(`moved  ${ids.audio}`);
    expect(run.stdout).toContain(`skipped 1: failure code not in --code: ${ids.garbage} (${codes.garbage})`);
    // Both fail again at once and are dead-lettered again: new messages, left for the next run.
    await waitFor('both to fail again', async () => {
      const docs = await Promise.all([ids.image, ids.audio].map((id) => stack.store.get(id)));
      return docs.every((d) => d?.status === 'failed' && d.attempts === 1) || undefined;
    });
    await waitFor('three jobs in the DLQ again', async () => ((await dlqDepth()) === 3 ? true : undefined));
  }, 70_000);

  it('--video picks one video; a bad option is a usage error', async () => {
    const run = await redrive('--video', ids.garbage, '--include-permanent', '--dry-run');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`would move  ${ids.garbage}`);
    expect(run.stdout).toMatch(/skipped 2: video not in --video/);
    const bad = await redrive('--bogus');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^reelay redrive: Unknown option '--bogus'.*\nusage: npm run redrive/);
    const badTier = await redrive('urgent');
    expect(badTier.code).toBe(2);
    expect(badTier.stderr).toMatch(/unknown tier urgent/);
  }, 70_000);
});
