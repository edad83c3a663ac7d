import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { HLS_DIR, STORYBOARD_DIR } from './ffmpeg/playback-outputs.ts';
import { locateFfmpeg } from '../../core/ffmpeg/locate.ts';
import { preparePlayback } from './playback-files.ts';
import { transcodeFile, type TranscodedFile } from './transcode-file.ts';

/** preparePlayback on what real ffmpeg wrote for a sample clip. */
const sample = path.resolve(import.meta.dirname, '../../samples/small-480p.mkv');
let dir: string;
let outDir: string;
let done: TranscodedFile;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'reelay-playback-files-'));
  outDir = path.join(dir, 'out');
  const binaries = locateFfmpeg({ searchPath: process.env.PATH });
  done = await transcodeFile(sample, outDir, { binaries, preset: 'ultrafast', threads: 2, logger: silentLogger() });
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('preparePlayback', () => {
  it('without a storyboard sprite, keeps the video playable with a note instead of failing it (#23 item 12)', async () => {
    await rm(path.join(outDir, STORYBOARD_DIR, done.plan.storyboard.sprite));
    const playback = await preparePlayback(done.plan, { outDir, videoId: '01ARZ3NDEKTSV4RRFFQ69G5FAV', duration: done.probe.duration });
    expect(playback.storyboard).toBeUndefined();
    expect(playback.notes).toEqual(['the timeline preview (storyboard) could not be made; the video plays without it']);
    expect(await readFile(path.join(outDir, HLS_DIR, 'master.m3u8'), 'utf8')).toContain('#EXT-X-STREAM-INF');
    await expect(access(path.join(outDir, STORYBOARD_DIR))).rejects.toThrow();
  });
});
