import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../testkit/free-port.ts';
import { isAlive, npmStart, pathWithoutModernNode } from './support/npm-start.ts';
import { waitFor, waitForFinalStatus } from './support/stack.ts';

/**
 * `npm start` as a user runs it: the emulator, provisioning and every role
 * as its own process. Upload a sample over HTTP, see it become ready and the
 * notifier process log video.ready; Ctrl-C stops everything cleanly.
 * PATH holds no Node >= 22.18 (where the machine has an older one): the
 * stack runs on the Node that `npm install` put in node_modules/.bin.
 */
const root = path.resolve(import.meta.dirname, '..');

let dataDir: string | undefined;
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('npm start (dev stack)', () => {
  it(`runs the whole pipeline as separate processes on the project's own Node (PATH: Node ${pathWithoutModernNode().systemNode ?? '22 only'}) and stops on Ctrl-C`, async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'reelay-devstack-'));
    const [apiPort, emulatorPort] = [await freePort(), await freePort()];
    const stack = npmStart({
      PORT: String(apiPort),
      REELAY_EMULATOR_PORT: String(emulatorPort),
      REELAY_DATA_DIR: dataDir,
      REELAY_POLL_WAIT_SECONDS: '2',
      REELAY_X264_PRESET: 'ultrafast',
      REELAY_SUPERVISOR_PORT: '0',
      REELAY_WEBHOOKS_METRICS_PORT: '0',
      REELAY_NOTIFIER_METRICS_PORT: '0',
      REELAY_LIVE_RTMP_PORT: '0',
      REELAY_LIVE_METRICS_PORT: '0',
    });
    try {
      const base = `http://127.0.0.1:${apiPort}`;
      await waitFor('the API to answer', async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok || undefined, 60_000);
      const form = new FormData();
      const clip = await readFile(path.join(root, 'samples/landscape-720p-audio.mp4'));
      form.set('file', new Blob([clip], { type: 'video/mp4' }), 'landscape-720p-audio.mp4');
      form.set('priority', 'high');
      const res = await fetch(`${base}/v1/videos`, { method: 'POST', body: form });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      expect((await waitForFinalStatus(base, id)).status).toBe('ready');

      const output = stack.output();
      const roles = new Set([...output.matchAll(/"role":"([a-z-]+)","pid":(\d+)/g)].map((m) => `${m[1]}:${m[2]}`));
      const pids = (role: string) => [...roles].filter((r) => r.startsWith(`${role}:`));
      for (const role of ['api', 'supervisor', 'notifier', 'webhooks', 'live', 'dev-stack']) expect(pids(role)).toHaveLength(1);
      // The supervisor starts the workers: at least the minimum of one, each its own process.
      expect(pids('worker').length).toBeGreaterThanOrEqual(1);
      expect(new Set([...roles].map((r) => r.split(':')[1])).size).toBe(6 + pids('worker').length);
      expect(output).toMatch(/"role":"live".*"msg":"live ingest listening"/);
      expect(output).toMatch(/"role":"supervisor".*"decision":"up".*"msg":"scale up: \+1 -> 1 worker"/);
      await waitFor(
        'the notifier to log video.ready',
        () =>
          stack
            .output()
            .split('\n')
            .some((l) => l.includes('"role":"notifier"') && l.includes(`"eventId":"video.ready:${id}"`)) || undefined,
      );
      expect(output).toMatch(/"msg":"using ffmpeg"/);
      // Every role runs on the project's own Node (node_modules/.bin/node, the `node` dev dependency).
      const apiPid = Number(pids('api')[0]!.split(':')[1]);
      expect(await readlink(`/proc/${apiPid}/exe`)).toContain(path.join(root, 'node_modules'));
    } finally {
      stack.signalGroup('SIGINT');
    }
    // npm ends the way its script did, or (having had the SIGINT itself) re-raises it.
    expect([
      { code: 0, signal: null },
      { code: null, signal: 'SIGINT' },
    ]).toContainEqual(await stack.exited);
    await waitFor('the stack to log "stopped"', () => stack.output().includes('"msg":"stopped"') || undefined, 60_000);
    // Every process of the stack is gone, the supervisor's workers included.
    const pids = new Set([...stack.output().matchAll(/"pid":(\d+)/g)].map((m) => Number(m[1])));
    await waitFor('every process of the stack to exit', () => [...pids].every((pid) => !isAlive(pid)) || undefined, 10_000);
  }, 150_000);

  it('with a port of the stack taken (a second stack), says so once and starts nothing (#23 item 16)', async () => {
    // The supervisor's port held by "another stack": before, the API came up green while the supervisor,
    // notifier and webhooks crash-looped, and uploads would have queued with no worker.
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const [apiPort, emulatorPort] = [await freePort(), await freePort()];
      const stack = npmStart({
        PORT: String(apiPort),
        REELAY_EMULATOR_PORT: String(emulatorPort),
        REELAY_DATA_DIR: path.join(tmpdir(), `reelay-ports-${apiPort}`),
        REELAY_SUPERVISOR_PORT: String(taken),
        REELAY_WEBHOOKS_METRICS_PORT: '0',
        REELAY_NOTIFIER_METRICS_PORT: '0',
        REELAY_LIVE_RTMP_PORT: '0',
        REELAY_LIVE_METRICS_PORT: '0',
        REELAY_LOG_FORMAT: 'json',
      });
      const { code } = await stack.exited;
      expect(code).toBe(2);
      const out = stack.output();
      expect(out).toContain(`${taken} (the supervisor, REELAY_SUPERVISOR_PORT)`);
      expect(out.match(/is in use/g)).toHaveLength(1);
      expect(out).not.toMatch(/api listening|exited; restarting/);
      expect(await fetch(`http://127.0.0.1:${apiPort}/healthz`).catch(() => undefined)).toBeUndefined();
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  }, 60_000);
});
