import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { spawnWorker, type RoleProcess } from './support/role-process.ts';
import { upload } from './support/upload.ts';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { parseMediaPlaylist } from '../core/hls-playlist.ts';
import { clipArgv } from '../testkit/clip.ts';
import { EventTap } from './support/event-tap.ts';

/**
 * Workers as real processes: killed with SIGKILL, stopped with SIGTERM, and
 * jobs longer than the visibility timeout. The API and the notifier run
 * in-process against the same emulator.
 */
const run = promisify(execFile);
const clip = path.resolve(import.meta.dirname, '../samples/landscape-720p-audio.mp4');
const VISIBILITY = { REELAY_VISIBILITY_TIMEOUT_SECONDS: '3', REELAY_HEARTBEAT_SECONDS: '1' };
/** Slow enough (one thread, x264 `veryslow`) that a test can act while ffmpeg runs. */
const SLOW = { REELAY_X264_PRESET: 'veryslow', REELAY_FFMPEG_THREADS: '1' };
const FAST = { REELAY_X264_PRESET: 'ultrafast' };

let stack: TestStack;
let scratch: string;
const workers: RoleProcess[] = [];

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false, env: VISIBILITY });
  scratch = await mkdtemp(path.join(tmpdir(), 'reelay-workers-'));
});
afterEach(async () => {
  for (const w of workers.splice(0)) {
    w.child.kill('SIGKILL');
    await w.exited;
  }
  // Belt and braces: no ffmpeg of this file may outlive it.
  await run('pkill', ['-9', '-f', scratch]).catch(() => undefined);
});
afterAll(async () => {
  await stack?.stop();
  await rm(scratch, { recursive: true, force: true });
});

function worker(name: string, env: Record<string, string>): RoleProcess {
  const w = spawnWorker(stack, { ...VISIBILITY, REELAY_TMP_DIR: path.join(scratch, name), ...env });
  workers.push(w);
  return w;
}

const processingBy = (id: string) =>
  waitFor(
    'the job to be running',
    async () => {
      const doc = await stack.store.get(id);
      return doc?.status === 'processing' && (doc.progress ?? 0) > 0 ? doc : undefined;
    },
    30_000,
  );

const eventsFor = (id: string, type: string) => stack.notifier.recent.filter((e) => e.subject === id && e.type === type);

async function ffmpegRunningUnder(dir: string): Promise<boolean> {
  const { stdout } = await run('pgrep', ['-f', `ffmpeg.*${dir}`]).catch(() => ({ stdout: '' }));
  return stdout.trim().length > 0;
}

describe('worker processes', () => {
  it('kill -9 mid-transcode: the job reappears, another worker finishes it, one video.ready', async () => {
    const a = worker('a', SLOW);
    const id = await upload(stack.baseUrl, clip, { params: { priority: 'high' } });
    await processingBy(id);
    expect(await ffmpegRunningUnder(path.join(scratch, 'a'))).toBe(true);
    a.child.kill('SIGKILL');
    await a.exited;
    // ffmpeg was started through setpriv --pdeathsig: the kernel kills it with its worker.
    await waitFor('the orphaned ffmpeg to die', async () => ((await ffmpegRunningUnder(path.join(scratch, 'a'))) ? undefined : true), 5000);

    const b = worker('b', FAST);
    const video = await waitForFinalStatus(stack.baseUrl, id, 60_000);
    // An interruption is not a failed attempt (#23 item 13): the job reran as attempt 1, with one stall.
    expect(video).toMatchObject({ status: 'ready', attempts: 1, stalls: 1 });
    await waitFor('video.ready', () => eventsFor(id, 'video.ready')[0]);
    // No publisher left (a was killed, b has exited) and the notifier's queue empty: a second video.ready
    // would be in notifier.recent by now.
    b.child.kill('SIGTERM');
    await b.exited;
    await stack.notifierDrained();
    expect(eventsFor(id, 'video.ready')).toHaveLength(1);
  });

  it('kill -9 after the video became playable: the rerun sends no second video.playable and never shortens a playlist', async () => {
    // 16 s of 720p: at veryslow with one thread, seconds per segment, so the kill lands mid-encode.
    const long = path.join(scratch, 'playable-16s.mp4');
    await run(stack.binaries.ffmpeg.path, clipArgv(long, { seconds: 16, width: 1280, height: 720, fps: 30 }));
    // A subscriber of its own: it keeps every delivery, duplicates included (the notifier drops repeated ids).
    const tap = await EventTap.start(stack.clients, {
      name: `${stack.config.prefix}-tap-rerun`,
      topicArns: [stack.resources.videoTopicArn],
    });
    const g = worker('g', SLOW);
    const id = await upload(stack.baseUrl, long, { params: { priority: 'high' } });
    const listed = async () => {
      const text = await stack.clients.s3
        .send(new GetObjectCommand({ Bucket: stack.resources.names.mediaBucket, Key: `videos/${id}/hls/360p/index.m3u8` }))
        .then((res) => res.Body!.transformToString('utf-8'))
        .catch(() => undefined);
      return text ? parseMediaPlaylist(text).segments.length : 0;
    };
    // Playable and announced, with 1 + 1 + 2 s listed: a rerun's first playlist (one segment) would be shorter.
    await waitFor(
      'the video to be playable with three segments listed',
      async () => {
        const doc = await stack.store.get(id);
        return doc?.status === 'processing' && doc.playableAnnounced === true && (await listed()) >= 3 ? doc : undefined;
      },
      60_000,
    );
    g.child.kill('SIGKILL');
    await g.exited;
    const before = await listed();
    expect((await stack.store.get(id))?.status).toBe('processing');

    const h = worker('h', FAST);
    const counts: number[] = [];
    await waitFor(
      'the rerun to finish',
      async () => {
        counts.push(await listed());
        return (await stack.store.get(id))?.status === 'ready' ? true : undefined;
      },
      60_000,
    );
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(before);
    expect((await stack.store.get(id))?.stalls).toBe(1);
    h.child.kill('SIGTERM');
    await h.exited;
    await tap.waitFor('video.ready', (e) => e.type === 'video.ready' && e.subject === id);
    await tap.drained();
    await tap.stop();
    expect(tap.ids('video.playable').filter((e) => e.endsWith(id))).toEqual([`video.playable:${id}`]);
    expect(tap.ids('video.ready').filter((e) => e.endsWith(id))).toEqual([`video.ready:${id}`]);
  });

  it('a file whose worker dies every time ends failed with a plain reason once the stall budget is spent, attempts untouched', async () => {
    // REELAY_MAX_STALLS=1: the second interruption fails the video (a poison file that kills its worker).
    const id = await upload(stack.baseUrl, clip, { params: { priority: 'high' } });
    for (const [round, name] of ['p1', 'p2'].entries()) {
      const w = worker(name, { ...SLOW, REELAY_MAX_STALLS: '1' });
      // This worker's run: the start of a rerun records the stall and resets the progress.
      await waitFor(
        `${name} to be transcoding`,
        async () => {
          const doc = await stack.store.get(id);
          return doc?.status === 'processing' && (doc.stalls ?? 0) === round && (doc.progress ?? 0) > 0 ? doc : undefined;
        },
        30_000,
      );
      w.child.kill('SIGKILL');
      await w.exited;
    }
    worker('p3', { ...FAST, REELAY_MAX_STALLS: '1' });
    const video = await waitForFinalStatus(stack.baseUrl, id, 60_000);
    expect(video.status).toBe('failed');
    expect(video.error.code).toBe('interrupted');
    expect(video.error.message).toMatch(/^processing stopped 2 times without finishing because the worker process ended each time/);
    expect(video.attempts).toBe(1);
  });

  it('SIGTERM mid-job: ffmpeg is stopped, the job handed back, the worker exits 0 and temp files are gone', async () => {
    const c = worker('c', SLOW);
    const id = await upload(stack.baseUrl, clip, { params: { priority: 'high' } });
    await processingBy(id);
    expect(await ffmpegRunningUnder(path.join(scratch, 'c'))).toBe(true);
    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    expect(await ffmpegRunningUnder(path.join(scratch, 'c'))).toBe(false);
    expect(await readdir(path.join(scratch, 'c'))).toEqual([]);
    expect(c.output()).toMatch(/job interrupted by shutdown; handing it back/);
    expect((await stack.store.get(id))?.status).toBe('queued');

    worker('d', FAST);
    expect(await waitForFinalStatus(stack.baseUrl, id, 60_000)).toMatchObject({ status: 'ready' });
  });

  it('a job longer than the visibility timeout is processed by one worker only (heartbeat)', async () => {
    // `slow` with one thread takes several times the 3 s visibility timeout on this clip.
    worker('e', { REELAY_X264_PRESET: 'slow', REELAY_FFMPEG_THREADS: '1' });
    worker('f', { REELAY_X264_PRESET: 'slow', REELAY_FFMPEG_THREADS: '1' });
    const id = await upload(stack.baseUrl, clip, { params: { priority: 'high' } });
    const video = await waitForFinalStatus(stack.baseUrl, id, 90_000);
    expect(video).toMatchObject({ status: 'ready', attempts: 1 });
    expect(Date.parse(video.finishedAt) - Date.parse(video.startedAt)).toBeGreaterThan(3000);
    await waitFor('video.ready', () => eventsFor(id, 'video.ready')[0]);
    expect(eventsFor(id, 'video.processing')).toHaveLength(1);
  });
});
