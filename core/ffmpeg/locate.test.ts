import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { locateFfmpeg } from './locate.ts';

function fakeBin(dir: string, name: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, 0o755);
  return file;
}

describe('locateFfmpeg', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'reelay-locate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const onPath = path.join(dir, 'bin');
  const explicit = path.join(dir, 'explicit');
  for (const d of [onPath, explicit]) mkdirSync(d);
  const pathFfmpeg = fakeBin(onPath, 'ffmpeg');
  const pathFfprobe = fakeBin(onPath, 'ffprobe');
  const envFfmpeg = fakeBin(explicit, 'my-ffmpeg');
  const npm = () => '/npm/ffmpeg';

  it('FFMPEG_PATH / FFPROBE_PATH win', () => {
    const found = locateFfmpeg({ ffmpegPath: envFfmpeg, searchPath: onPath, npm });
    expect(found.ffmpeg).toEqual({ path: envFfmpeg, origin: 'env' });
    expect(found.ffprobe).toEqual({ path: pathFfprobe, origin: 'path' });
  });

  it('then the system PATH', () => {
    expect(locateFfmpeg({ searchPath: `/nonexistent:${onPath}`, npm }).ffmpeg).toEqual({ path: pathFfmpeg, origin: 'path' });
  });

  it('then the npm packages', () => {
    expect(locateFfmpeg({ searchPath: '/nonexistent', npm }).ffmpeg).toEqual({ path: '/npm/ffmpeg', origin: 'npm' });
  });

  it('the real npm fallback resolves to executable binaries', () => {
    const found = locateFfmpeg({ searchPath: '' });
    expect(found.ffmpeg.origin).toBe('npm');
    expect(found.ffprobe.origin).toBe('npm');
  });

  it('explains what to do when nothing is found', () => {
    expect(() => locateFfmpeg({ searchPath: '', npm: () => undefined })).toThrow(/apt-get install -y ffmpeg/);
  });

  it('rejects an explicit path that is not executable', () => {
    expect(() => locateFfmpeg({ ffmpegPath: path.join(dir, 'missing'), searchPath: onPath, npm })).toThrow(/FFMPEG_PATH/);
  });
});
