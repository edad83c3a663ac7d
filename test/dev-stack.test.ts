import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor, waitForFinalStatus } from './support/stack.ts';

/**
 * `npm start` as a user runs it: the emulator, provisioning and every role
 * as its own process. Upload a sample over HTTP, see it become ready and the
 * notifier process log video.ready; Ctrl-C stops everything cleanly.
 */
const root = path.resolve(import.meta.dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let dataDir: string | undefined;
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('npm start (dev stack)', () => {
  it('runs the whole pipeline as separate processes and stops on SIGINT', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'reelay-devstack-'));
    const [apiPort, emulatorPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(root, 'infra/dev-stack.ts')], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(apiPort),
        REELAY_EMULATOR_PORT: String(emulatorPort),
        REELAY_DATA_DIR: dataDir,
        REELAY_POLL_WAIT_SECONDS: '2',
        REELAY_X264_PRESET: 'ultrafast',
        REELAY_SUPERVISOR_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${apiPort}`;
      await waitFor('the API to answer', async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok || undefined, 30_000);
      const form = new FormData();
      const clip = await readFile(path.join(root, 'samples/landscape-720p-audio.mp4'));
      form.set('file', new Blob([clip], { type: 'video/mp4' }), 'landscape-720p-audio.mp4');
      form.set('priority', 'high');
      const res = await fetch(`${base}/v1/videos`, { method: 'POST', body: form });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      expect((await waitForFinalStatus(base, id)).status).toBe('ready');

      const roles = new Set([...output.matchAll(/"role":"([a-z-]+)","pid":(\d+)/g)].map((m) => `${m[1]}:${m[2]}`));
      const pids = (role: string) => [...roles].filter((r) => r.startsWith(`${role}:`));
      for (const role of ['api', 'supervisor', 'notifier', 'webhooks', 'dev-stack']) expect(pids(role)).toHaveLength(1);
      // The supervisor starts the workers: at least the minimum of one, each its own process.
      expect(pids('worker').length).toBeGreaterThanOrEqual(1);
      expect(new Set([...roles].map((r) => r.split(':')[1])).size).toBe(5 + pids('worker').length);
      expect(output).toMatch(/"role":"supervisor".*"decision":"up".*"msg":"scale up: \+1 -> 1 worker"/);
      await waitFor('the notifier to log video.ready', () =>
        output.split('\n').some((l) => l.includes('"role":"notifier"') && l.includes(`"eventId":"video.ready:${id}"`)) || undefined,
      );
      expect(output).toMatch(/"msg":"using ffmpeg"/);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(output).toContain('"msg":"stopped"');
    // Every process of the stack is gone, the supervisor's workers included.
    const alive = (pid: number) => {
      try {
        return process.kill(pid, 0);
      } catch {
        return false;
      }
    };
    const pids = new Set([...output.matchAll(/"pid":(\d+)/g)].map((m) => Number(m[1])));
    expect([...pids].filter(alive)).toEqual([]);
  }, 90_000);
});
