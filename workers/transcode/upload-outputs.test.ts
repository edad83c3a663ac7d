import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../infra/emulator.ts';
import { uploadOutputs } from './upload-outputs.ts';

/**
 * A long video's HLS variant has thousands of segments: uploading them must
 * keep a bounded number of requests (and open files) in flight. Against the
 * real emulator; a middleware on the real client counts requests in flight.
 */
let dir: string;
let emulator: RunningEmulator;
let s3: S3Client;
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'reelay-upload-outputs-'));
  emulator = await startEmulator({ port: 0, dataDir: path.join(dir, 'emulator') });
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: emulator.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  s3.middlewareStack.add(
    (next) => async (args) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await next(args);
      } finally {
        inFlight--;
      }
    },
    { step: 'finalizeRequest', name: 'countInFlight' },
  );
  await s3.send(new CreateBucketCommand({ Bucket: 'media' }));
});
afterAll(async () => {
  s3?.destroy();
  await emulator?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('uploadOutputs', () => {
  it('uploads every file under the output folder, at most `concurrency` at a time', async () => {
    const out = path.join(dir, 'out');
    await mkdir(path.join(out, 'hls', '360p'), { recursive: true });
    await writeFile(path.join(out, '360p.mp4'), 'mp4 bytes');
    const segments = Array.from({ length: 60 }, (_, i) => `seg_${String(i).padStart(5, '0')}.m4s`);
    for (const segment of segments) await writeFile(path.join(out, 'hls', '360p', segment), `segment ${segment}`);

    maxInFlight = 0;
    const videoId = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
    await uploadOutputs({ s3, bucket: 'media', outDir: out, videoId, signal: new AbortController().signal, concurrency: 3 });

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'media', MaxKeys: 1000 }));
    expect(listed.Contents?.length).toBe(61);
    expect(maxInFlight).toBeGreaterThan(1); // it does run in parallel …
    expect(maxInFlight).toBeLessThanOrEqual(3); // … but never more than asked
    const key = listed.Contents!.find((o) => o.Key!.endsWith('seg_00042.m4s'))!.Key!;
    const body = await (await s3.send(new GetObjectCommand({ Bucket: 'media', Key: key }))).Body!.transformToString();
    expect(body).toBe('segment seg_00042.m4s');
  });
});
