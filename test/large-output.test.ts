import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMULATOR_MAX_BODY_BYTES } from '../core/s3-multipart.ts';
import { ffprobe } from './support/media.ts';
import { startTestStack, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';

/**
 * #23 item 0: a video whose 720p output is larger than one request body the embedded emulator takes
 * (11 MiB) must still end `ready` — it failed with "XML parse error" while the worker sent 16 MiB parts.
 * The source is 34 s of 720p moving noise at 12 fps: x264 spends the whole 3.5 Mbit/s cap of the 720p
 * rung (~14 MiB), with few frames to encode, so the transcode stays short.
 */
let stack: TestStack;
let dir: string;

beforeAll(async () => {
  stack = await startTestStack();
  dir = await mkdtemp(path.join(tmpdir(), 'reelay-large-output-'));
});
afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('an output larger than 11 MiB', () => {
  it('is stored in parts the emulator takes and the video ends ready', { timeout: 180_000 }, async () => {
    const source = path.join(dir, 'noise-720p.mp4');
    await promisify(execFile)(stack.binaries.ffmpeg.path, [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=12,noise=alls=60:allf=t'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '34'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '20', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', source],
    ]);
    const id = await upload(stack.baseUrl, source, { params: { title: 'noise' } });

    const video = await waitForFinalStatus(stack.baseUrl, id, 150_000);
    expect(video.error).toBeUndefined();
    expect(video.status).toBe('ready');
    expect(video.outputs['720p'].bytes).toBeGreaterThan(EMULATOR_MAX_BODY_BYTES);

    const download = await fetch(`${stack.baseUrl}/v1/videos/${id}/outputs/720p`);
    expect(download.status).toBe(200);
    const file = path.join(dir, 'out-720p.mp4');
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.length).toBe(video.outputs['720p'].bytes);
    await writeFile(file, bytes);
    const probed = await ffprobe(stack.binaries.ffprobe.path, file);
    expect(probed.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 1280, height: 720 });
    expect(probed.duration).toBeGreaterThan(33);
  });
});
