import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../../core/ffmpeg/locate.ts';
import { probeMedia } from './ffmpeg/probe/index.ts';
import { readInProcess } from './measure-outputs.ts';

const samples = fileURLToPath(new URL('../../samples/', import.meta.url));
const { ffmpeg, ffprobe } = locateFfmpeg({ searchPath: process.env.PATH });
const dir = mkdtempSync(path.join(tmpdir(), 'reelay-measure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('measuring outputs in process', () => {
  it.each(['landscape-720p-audio.mp4', 'portrait-rotated-silent.mp4'])('reads %s as ffprobe does', async (name) => {
    const file = path.join(samples, name);
    const probe = await probeMedia(file, { ffprobePath: ffprobe.path, untrusted: false });
    const measured = await readInProcess(file);
    expect(measured).toEqual({
      width: probe.video.width,
      height: probe.video.height,
      videoCodec: probe.video.codec,
      duration: expect.closeTo(probe.duration, 2),
      ...(probe.audio ? { audioCodec: probe.audio.codec } : {}),
    });
  });

  it('reads a JPEG thumbnail as ffprobe does', async () => {
    const jpg = path.join(dir, 'thumbnail.jpg');
    execFileSync(ffmpeg.path, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=1', '-frames:v', '1', '-y', jpg]);
    const probe = await probeMedia(jpg, { ffprobePath: ffprobe.path, untrusted: false });
    expect(await readInProcess(jpg)).toEqual({ width: probe.video.width, height: probe.video.height, videoCodec: probe.video.codec });
  });

  it('gives up (for ffprobe to measure) on a file that is not what its name says', async () => {
    const bogus = path.join(dir, 'bogus.mp4');
    writeFileSync(bogus, Buffer.alloc(4096, 7));
    expect(await readInProcess(bogus)).toBeUndefined();
  });
});
