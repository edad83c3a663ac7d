import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../infra/emulator.ts';
import { describeS3Failure, EMULATOR_MAX_BODY_BYTES } from '../../core/s3-multipart.ts';
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

  it('stores an output larger than one request body the emulator takes (11 MiB) in parts it accepts', async () => {
    // #23 item 0: 16 MiB parts were refused by fauxqs (bodyLimit 11 MiB), so any long video failed on `npm start`.
    const out = path.join(dir, 'large');
    await mkdir(out, { recursive: true });
    const bytes = Buffer.alloc(20 * 1024 * 1024 + 123);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i % 251;
    await writeFile(path.join(out, '720p.mp4'), bytes);
    const videoId = '01ARZ3NDEKTSV4RRFFQ69G5FAW';
    await uploadOutputs({ s3, bucket: 'media', outDir: out, videoId, signal: new AbortController().signal });
    const stored = await s3.send(new GetObjectCommand({ Bucket: 'media', Key: `videos/${videoId}/720p.mp4` }));
    const back = Buffer.from(await stored.Body!.transformToByteArray());
    expect(back.length).toBe(bytes.length);
    expect(back.equals(bytes)).toBe(true);
  });

  it('says what the store answered when it refuses, not the SDK parse error', async () => {
    const out = path.join(dir, 'nobucket');
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, 'thumbnail.jpg'), 'jpeg bytes');
    const failure = uploadOutputs({
      s3,
      bucket: 'no-such-bucket',
      outDir: out,
      videoId: '01ARZ3NDEKTSV4RRFFQ69G5FAX',
      signal: new AbortController().signal,
    });
    await expect(failure).rejects.toThrow(/could not upload the outputs: the store answered HTTP 404.*NoSuchBucket/);

    // A body over the emulator's limit gets a JSON 413, which the SDK cannot parse as S3 XML.
    const tooLarge = await s3
      .send(new PutObjectCommand({ Bucket: 'media', Key: 'too-large', Body: Buffer.alloc(EMULATOR_MAX_BODY_BYTES + 1) }))
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(describeS3Failure(tooLarge)).toBe('the store answered HTTP 413 Payload Too Large: Request body is too large');
  });
});
