import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../core/ffmpeg/locate.ts';
import { freePort } from '../testkit/free-port.ts';
import { isAlive, npmStart, type NpmStart } from './support/npm-start.ts';
import { waitFor, waitForFinalStatus } from './support/stack.ts';
import { upload } from './support/upload.ts';

/**
 * Ctrl-C on `npm start` in the middle of a transcode, as a terminal sends it:
 * SIGINT to every process of the foreground process group. Only the stack
 * itself may hear it; it stops the roles in order, the worker finishes (or
 * hands back) its job, and after a restart the video is ready having spent
 * one attempt. Before, ffmpeg got the SIGINT too ("received signal 2") and the
 * job became a failed attempt.
 */
let dir: string | undefined;
const stacks: NpmStart[] = [];
afterAll(async () => {
  // The roles live in sessions of their own: kill each process the stacks logged, not only npm's group.
  for (const s of stacks) {
    s.signalGroup('SIGKILL');
    for (const pid of new Set([...s.output().matchAll(/"pid":(\d+)/g)].map((m) => Number(m[1])))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Ctrl-C on npm start', () => {
  it('during a transcode: the stack stops in order and the video ends ready with attempts 1 after a restart', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reelay-interrupt-'));
    const clip = path.join(dir, 'twenty-seconds-720p.mp4');
    const { ffmpeg } = locateFfmpeg({ searchPath: process.env.PATH });
    await promisify(execFile)(ffmpeg.path, [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30:duration=20'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip],
    ]);
    const [apiPort, emulatorPort] = [await freePort(), await freePort()];
    const env = {
      PORT: String(apiPort),
      REELAY_EMULATOR_PORT: String(emulatorPort),
      REELAY_DATA_DIR: path.join(dir, 'data'),
      REELAY_POLL_WAIT_SECONDS: '2',
      REELAY_SUPERVISOR_PORT: '0',
      REELAY_WEBHOOKS_METRICS_PORT: '0',
      REELAY_NOTIFIER_METRICS_PORT: '0',
      REELAY_LIVE_RTMP_PORT: '0',
      REELAY_LIVE_METRICS_PORT: '0',
      REELAY_X264_PRESET: 'ultrafast',
      // Room for the worker to finish its job while stopping (it may hold it for half of this).
      REELAY_VISIBILITY_TIMEOUT_SECONDS: '120',
    };
    const base = `http://127.0.0.1:${apiPort}`;
    const healthy = () =>
      waitFor('the API to answer', async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok || undefined, 60_000);

    const first = npmStart(env);
    stacks.push(first);
    await healthy();
    const id = await upload(base, clip, { params: { priority: 'high' } });
    // ffmpeg is running: the worker has reported progress.
    await waitFor(
      'the transcode to be under way',
      async () => {
        const video = (await (await fetch(`${base}/v1/videos/${id}`)).json()) as { status: string; progress?: number };
        if (video.status !== 'queued' && video.status !== 'processing') throw new Error(`video ${video.status} before the Ctrl-C`);
        return (video.status === 'processing' && (video.progress ?? 0) > 0) || undefined;
      },
      60_000,
    );

    first.signalGroup('SIGINT');
    await first.exited;
    const log = first.output();
    // Each process writes its own lines: order them by their time, not by where they landed in the pipe.
    const entries = log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { time: string; role: string; signal?: string; msg: string });
    const when = (role: string, msg: RegExp) => {
      const entry = entries.find((e) => e.role === role && msg.test(e.msg));
      expect(entry, `${role}: ${msg}`).toBeDefined();
      return { at: Date.parse(entry!.time), signal: entry!.signal };
    };
    // The stack heard the Ctrl-C; each role heard of it from the stack (SIGTERM), the API before the supervisor.
    const stack = when('dev-stack', /^stopping the stack/);
    expect(stack.signal).toBe('SIGINT');
    const api = when('api', /shutting down/);
    const supervisor = when('supervisor', /shutting down/);
    const worker = when('worker', /shutting down/);
    expect([api.signal, supervisor.signal, worker.signal]).toEqual(['SIGTERM', 'SIGTERM', 'SIGTERM']);
    expect(api.at).toBeGreaterThanOrEqual(stack.at);
    expect(supervisor.at).toBeGreaterThanOrEqual(api.at);
    // The worker had the job in hand when it was told to stop.
    expect(log).toMatch(/"role":"worker".*"busy":1.*"msg":"worker stopping"/);
    expect(log).not.toMatch(/received signal 2|attempt failed/);
    expect(log).toMatch(/"role":"dev-stack".*"msg":"stopped"/);
    const pids = new Set([...log.matchAll(/"pid":(\d+)/g)].map((m) => Number(m[1])));
    await waitFor('every process of the stack to exit', () => [...pids].every((pid) => !isAlive(pid)) || undefined, 10_000);

    // Restarted on the same state: the video is ready, one attempt spent (finished before the stop, or handed back).
    const second = npmStart(env);
    stacks.push(second);
    await healthy();
    expect(await waitForFinalStatus(base, id, 120_000)).toMatchObject({ status: 'ready', attempts: 1 });
    second.signalGroup('SIGINT');
    await second.exited;
  }, 400_000);

  it('on an idle stack: every role stops within seconds and nothing logs an error (#23 item 15)', async () => {
    dir ??= await mkdtemp(path.join(tmpdir(), 'reelay-interrupt-'));
    const [apiPort, emulatorPort] = [await freePort(), await freePort()];
    // The local stack's own poll wait (no REELAY_POLL_WAIT_SECONDS), as `npm start` runs it.
    const idle = npmStart({
      PORT: String(apiPort),
      REELAY_EMULATOR_PORT: String(emulatorPort),
      REELAY_DATA_DIR: path.join(dir, 'idle-data'),
      REELAY_SUPERVISOR_PORT: '0',
      REELAY_WEBHOOKS_METRICS_PORT: '0',
      REELAY_NOTIFIER_METRICS_PORT: '0',
      REELAY_LIVE_RTMP_PORT: '0',
      REELAY_LIVE_METRICS_PORT: '0',
    });
    stacks.push(idle);
    await waitFor(
      'every role to be up',
      () => (/webhook dispatcher listening/.test(idle.output()) && /api listening/.test(idle.output())) || undefined,
      60_000,
    );
    idle.signalGroup('SIGINT');
    await idle.exited;
    const entries = idle
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { time: string; role: string; level: number | string; msg: string });
    const at = (msg: RegExp) => Date.parse(entries.find((e) => e.role === 'dev-stack' && msg.test(e.msg))!.time);
    // Before: roles stopped one after another, each waiting out a 10–20 s long poll (23–41 s in all).
    expect(at(/^stopped$/) - at(/^stopping the stack/)).toBeLessThan(10_000);
    const errors = entries.filter((e) => e.level === 50 || e.level === 'error' || e.level === 60 || e.level === 'fatal');
    expect(errors.map((e) => `${e.role}: ${e.msg}`)).toEqual([]);
  }, 120_000);
});
