import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffprobe } from './support/media.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * The `reelay` command, run as a user runs it (`node bin/reelay.mjs …`, what
 * `npx reelay` starts), against a real stack: the API, the emulator, a real
 * worker and ffmpeg. Its output is not a terminal here, so it prints plain lines.
 */
const root = path.resolve(import.meta.dirname, '..');
const samples = path.join(root, 'samples');
let stack: TestStack;
let dir: string;

beforeAll(async () => {
  stack = await startTestStack();
  dir = await mkdtemp(path.join(tmpdir(), 'reelay-cli-'));
});
afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function reelay(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/reelay.mjs'), ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, REELAY_API_URL: stack.baseUrl, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const idOf = (stdout: string, file: string) => new RegExp(`${file.replace('.', '\\.')}: uploaded .* as (\\w+), queued`).exec(stdout)?.[1];

describe('reelay CLI against the real stack', () => {
  it('upload --wait sends two files in parallel and prints each one ready with its output URLs; exit 0', async () => {
    const run = await reelay([
      'upload',
      '--wait',
      '--priority',
      'high',
      path.join(samples, 'landscape-720p-audio.mp4'),
      path.join(samples, 'small-480p.mkv'),
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const a = idOf(run.stdout, 'landscape-720p-audio.mp4');
    const b = idOf(run.stdout, 'small-480p.mkv');
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    // Plain lines: uploads at 100%, each finished with every output's URL.
    expect(run.stdout).toContain('landscape-720p-audio.mp4: uploading 100% (369.0 KiB of 369.0 KiB)');
    expect(run.stdout).toContain(`landscape-720p-audio.mp4: ready as ${a}`);
    expect(run.stdout).toContain(`  720p      1280x720  ${stack.baseUrl}/v1/videos/${a}/outputs/720p`);
    expect(run.stdout).toContain(`  thumbnail `);
    expect(run.stdout).toContain(`small-480p.mkv: ready as ${b}`);
    expect(run.stdout).toMatch(/small-480p\.mkv: ready as \w+\n {2}360p +\d+x360 /);
    expect(run.stdout).toMatch(/ {2}720p +skipped: /);

    const status = await reelay(['status', a!, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ id: a, status: 'ready', priority: 'high', title: 'landscape-720p-audio' });

    const list = await reelay(['list', '--json']);
    expect((JSON.parse(list.stdout) as { items: { id: string }[] }).items.map((v) => v.id)).toEqual(expect.arrayContaining([a, b]));

    const download = await reelay(['download', a!, '360p', '-o', 'a-360.mp4']);
    expect(download).toMatchObject({ code: 0, stderr: '' });
    const file = path.join(dir, 'a-360.mp4');
    expect(download.stdout).toMatch(/^a-360\.mp4: [\d.]+ KiB\n$/);
    const probed = await ffprobe(stack.binaries.ffprobe.path, file);
    expect(probed.streams.find((s: { codec_type: string }) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', height: 360 });
    const thumb = await reelay(['download', a!, 'thumbnail']);
    expect(thumb.code).toBe(0);
    expect((await stat(path.join(dir, `${a}-thumbnail.jpg`))).size).toBeGreaterThan(1000);
  });

  it('a file that cannot become a video: the reason is printed and the exit code is 1', async () => {
    const bogus = path.join(dir, 'notes.mp4');
    await writeFile(bogus, 'these are meeting notes, not a video');
    const run = await reelay(['upload', '--wait', bogus]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/notes\.mp4: failed \(\w+\): \S.*/);
  });

  it('--json prints one parseable document; upload without --wait returns as soon as the file is queued', async () => {
    const run = await reelay(['upload', '--json', path.join(samples, 'small-480p.mkv')]);
    expect(run.code).toBe(0);
    const [video] = JSON.parse(run.stdout) as { id: string; status: string; file: string }[];
    expect(video).toMatchObject({ status: 'queued', file: path.join(samples, 'small-480p.mkv') });
    // watch ID: the pushed events of that video until it is ready, then exit 0.
    const watch = await reelay(['watch', video!.id]);
    expect(watch.code).toBe(0);
    expect(watch.stdout).toMatch(new RegExp(`(video\\.ready +${video!.id}|${video!.id}: ready as ${video!.id})`));
  });

  it('channels start and stop publish live events', async () => {
    const start = await reelay(['channels', 'start', 'cli-channel']);
    expect(start).toMatchObject({ code: 0, stdout: expect.stringMatching(/^channel cli-channel: live \(session \S+\)\n$/) });
    const stop = await reelay(['channels', 'stop', 'cli-channel']);
    expect(stop).toMatchObject({ code: 0, stdout: expect.stringMatching(/^channel cli-channel: offline/) });
  });

  it('usage errors exit 2; an unreachable API and an unknown id exit 1 with one sentence', async () => {
    expect((await reelay(['upload'])).code).toBe(2);
    expect((await reelay(['frobnicate'])).code).toBe(2);
    expect((await reelay(['upload', '--priority', 'urgent', 'x.mp4'])).code).toBe(2);
    expect((await reelay(['upload', path.join(dir, 'missing.mp4')])).code).toBe(2);
    const badOutput = await reelay(['download', 'x', '1080p']);
    expect(badOutput).toMatchObject({ code: 2, stderr: 'reelay: output must be one of 360p, 720p, thumbnail, not "1080p"\n' });
    const unknown = await reelay(['status', '01ARZ3NDEKTSV4RRFFQ69G5FAV']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^reelay: the API answered 404 /);
    const down = await reelay(['list'], { REELAY_API_URL: 'http://127.0.0.1:9' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^reelay: cannot reach the reelay API at http:\/\/127\.0\.0\.1:9/);
  });
});
