import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from './support/stack.ts';

/**
 * Abusive clients against the real API and emulator: no key, a client that
 * vanishes mid-upload, one that stalls. No crash, no object or multipart part
 * left behind, no video recorded for a file that never arrived.
 */
const KEY = 'test-key-0123456789abcdef';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false, env: { REELAY_API_KEYS: KEY, REELAY_IDLE_TIMEOUT_SECONDS: '1' } });
});
afterAll(async () => {
  await stack?.stop();
});

const auth = { authorization: `Bearer ${KEY}` };

async function leftovers(): Promise<{ objects: number; parts: string[]; videos: number }> {
  const raw = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: stack.resources.names.rawBucket }));
  const index = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: stack.resources.names.mediaBucket, Prefix: 'index/' }));
  const multipartDir = path.join(stack.dataDir, 's3', '_multipart');
  const parts = await readdir(multipartDir, { recursive: true }).catch(() => [] as string[]);
  return { objects: raw.KeyCount ?? 0, parts: parts.filter((p) => !p.endsWith('/')), videos: index.KeyCount ?? 0 };
}

/** Opens a raw HTTP upload that announces `announced` bytes and sends `send` of them. */
async function partialUpload(announced: number, send: number): Promise<Socket> {
  const { port } = new URL(stack.baseUrl);
  const socket = connect(Number(port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `POST /v1/videos HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: video/mp4\r\nContent-Length: ${announced}\r\n\r\n`,
  );
  const chunk = Buffer.alloc(1024 * 1024, 7);
  for (let sent = 0; sent < send; sent += chunk.length) {
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  return socket;
}

describe('access control', () => {
  it('every route but /healthz needs the key', async () => {
    expect((await fetch(`${stack.baseUrl}/healthz`)).status).toBe(200);
    const anonymous = await fetch(`${stack.baseUrl}/v1/videos`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toBe('application/problem+json');
    expect((await fetch(`${stack.baseUrl}/v1/videos`, { headers: { authorization: 'Bearer wrong-key-0123456789' } })).status).toBe(401);
    expect((await fetch(`${stack.baseUrl}/v1/videos`, { headers: auth })).status).toBe(200);
  });

  it('the API process refuses to start without keys unless REELAY_AUTH=none', async () => {
    const start = (env: Record<string, string>) => {
      const child = spawn(
        process.execPath,
        ['--disable-warning=ExperimentalWarning', path.resolve(import.meta.dirname, '../api/main.ts')],
        {
          env: {
            PATH: process.env.PATH,
            AWS_ENDPOINT_URL: stack.config.aws.endpoint,
            REELAY_PREFIX: stack.config.prefix,
            PORT: '0',
            ...env,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      return { child, output: () => output, exited: new Promise<number | null>((resolve) => child.on('exit', resolve)) };
    };
    const refused = start({});
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toMatch(/no API keys: set REELAY_API_KEYS/);

    const open = start({ REELAY_AUTH: 'none' });
    await waitFor('the open API to listen', () => (open.output().includes('api listening') ? true : undefined), 15_000);
    expect(open.output()).toMatch(/REELAY_AUTH=none: the API accepts requests without a key/);
    open.child.kill('SIGTERM');
    expect(await open.exited).toBe(0);
  });
});

describe('abusive uploads', () => {
  it('a client that disconnects mid-upload leaves nothing behind, and the API stays up', async () => {
    // 20 MiB of an announced 100 MiB: several 5 MiB parts reach S3 before the client vanishes.
    const socket = await partialUpload(100 * 1024 * 1024, 20 * 1024 * 1024);
    // The parts really are in S3 (the emulator keeps them as files) before the client goes.
    await waitFor('parts to reach S3', async () => ((await leftovers()).parts.length > 0 ? true : undefined));
    socket.destroy();
    await waitFor('the multipart upload to be aborted', async () => {
      const left = await leftovers();
      return left.objects === 0 && left.parts.length === 0 ? left : undefined;
    });
    expect((await leftovers()).videos).toBe(0);
    expect((await fetch(`${stack.baseUrl}/healthz`)).status).toBe(200);
  });

  it('a multipart client that disconnects mid-file leaves nothing behind', async () => {
    const { port } = new URL(stack.baseUrl);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const head = '--B\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n';
    socket.write(
      `POST /v1/videos HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n${head}`,
    );
    const chunk = Buffer.alloc(1024 * 1024, 7);
    for (let sent = 0; sent < 20 * 1024 * 1024; sent += chunk.length) {
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    await waitFor('parts to reach S3', async () => ((await leftovers()).parts.length > 0 ? true : undefined));
    socket.destroy();
    await waitFor('the multipart upload to be aborted', async () => {
      const left = await leftovers();
      return left.objects === 0 && left.parts.length === 0 && left.videos === 0 ? true : undefined;
    });
    expect((await fetch(`${stack.baseUrl}/healthz`)).status).toBe(200);
  });

  it('a client that stalls is disconnected after the idle timeout, leaving nothing behind', async () => {
    const socket = await partialUpload(50 * 1024 * 1024, 10 * 1024 * 1024);
    const lastWriteAt = Date.now();
    // Listen at once: the close may come while the part is still being looked for.
    const closedAt = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    await waitFor('a part to reach S3', async () => ((await leftovers()).parts.length > 0 ? true : undefined));
    // Closed by the server's idle timeout (1 s here): not before it, and not only when the test gives up.
    const stalledMs = (await closedAt) - lastWriteAt;
    expect(stalledMs).toBeGreaterThanOrEqual(900);
    expect(stalledMs).toBeLessThan(30_000);
    await waitFor('the stalled upload to be cleaned up', async () => {
      const left = await leftovers();
      return left.objects === 0 && left.parts.length === 0 && left.videos === 0 ? true : undefined;
    });
    expect((await fetch(`${stack.baseUrl}/healthz`)).status).toBe(200);
  });
});
