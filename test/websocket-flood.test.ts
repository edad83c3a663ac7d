import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnRole, type RoleProcess } from './support/role-process.ts';
import { startTestStack, waitFor, type TestStack } from './support/stack.ts';
import { WsClient } from './support/ws-client.ts';

/**
 * #23 item 2: one WebSocket client must not stall the API or bloat its memory. The API runs as its own
 * process (as in production), so its resident memory can be read from /proc; the attacker is a raw TCP
 * client that upgrades, never reads, and writes megabytes of tiny `{}` frames (each one used to get an
 * error reply queued without bound: +213 MiB of RSS that was never given back, /healthz at 1–3 s).
 */
const KEY = 'k'.repeat(24);
let stack: TestStack;
let api: RoleProcess;
let baseUrl: string;

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false, env: { REELAY_API_KEYS: KEY } });
  api = spawnRole(stack, 'api/main.ts', { PORT: '0', REELAY_API_KEYS: KEY, REELAY_LOG_FORMAT: 'json' });
  baseUrl = await waitFor('the API process to listen', () => {
    const line = api
      .output()
      .split('\n')
      .find((l) => l.includes('"api listening"'));
    return line ? (JSON.parse(line) as { url: string }).url : undefined;
  });
}, 120_000);
afterAll(async () => {
  api?.child.kill('SIGKILL');
  await stack?.stop();
});

/** Resident memory of the API process, MiB. */
async function rssMiB(): Promise<number> {
  const status = await readFile(`/proc/${api.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Upgrades a raw socket to `/v1/ws` and leaves it unread; resolves once the 101 arrived. */
function rawUpgrade(): Promise<{ socket: Socket; closed: Promise<number | undefined> }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `GET /v1/ws HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${KEY}\r\n\r\n`,
      );
    });
    let head: Buffer = Buffer.alloc(0);
    let frames: Buffer = Buffer.alloc(0);
    let closeCode: ((code: number | undefined) => void) | undefined;
    const closed = new Promise<number | undefined>((done) => {
      closeCode = done;
      socket.on('close', () => done(undefined));
    });
    // Server frames are unmasked: FIN/opcode byte, 7-bit length (126: 16-bit, 127: 64-bit follows), payload.
    const readFrames = (chunk: Buffer) => {
      frames = Buffer.concat([frames, chunk]);
      for (;;) {
        if (frames.length < 2) return;
        let length = frames[1]! & 0x7f;
        let at = 2;
        if (length === 126) [length, at] = frames.length < 4 ? [-1, 0] : [frames.readUInt16BE(2), 4];
        else if (length === 127) [length, at] = frames.length < 10 ? [-1, 0] : [Number(frames.readBigUInt64BE(2)), 10];
        if (length < 0 || frames.length < at + length) return;
        if ((frames[0]! & 0x0f) === 0x8) closeCode?.(length >= 2 ? frames.readUInt16BE(at) : undefined);
        frames = frames.subarray(at + length);
      }
    };
    const onData = (chunk: Buffer) => {
      if (!head.includes('\r\n\r\n')) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!head.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 101')) {
          reject(new Error(`upgrade refused: ${head.toString('latin1').split('\r\n')[0]}`));
          return;
        }
        readFrames(head.subarray(end + 4));
        resolve({ socket, closed });
        return;
      }
      readFrames(chunk);
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  });
}

/** `count` masked text frames holding `{}` (mask key 0: the payload is sent as is). */
function tinyFrames(count: number): Buffer {
  const frame = Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x7b, 0x7d]);
  return Buffer.concat(Array.from({ length: count }, () => frame));
}

describe('a WebSocket client that floods and never reads', () => {
  it('is closed with 1008 and the API keeps its memory and answers /healthz', { timeout: 120_000 }, async () => {
    const before = await rssMiB();
    const { socket, closed } = await rawUpgrade();
    socket.pause(); // never read: every reply the server queues stays queued
    const chunk = tinyFrames(64 * 1024); // 512 KiB of frames
    let written = 0;
    const total = 9 * 1024 * 1024;
    while (written < total && !socket.destroyed) {
      const ok = socket.write(chunk);
      written += chunk.length;
      if (!ok) await new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('drain', resolve).once('close', resolve)));
    }
    const health = await fetch(`${baseUrl}/healthz`);
    expect(health.status).toBe(200);
    const after = await rssMiB();
    socket.resume(); // read again, to see the close frame
    expect(await closed).toBe(1008);
    expect(after - before).toBeLessThan(40);
  });

  it('refuses more subscriptions than the cap on one connection, and keeps the ones it took', async () => {
    const client = await WsClient.connect(`${baseUrl}/v1/ws`, { authorization: `Bearer ${KEY}` });
    try {
      const ids = Array.from({ length: 105 }, (_, i) => `chan-${i}`);
      for (const channelId of ids) client.send({ type: 'subscribe', channelId });
      await client.waitFor('every subscription answered', () => client.messages.length >= ids.length || undefined);
      const subscribed = client.messages.filter((m) => m.type === 'subscribed');
      const refused = client.messages.filter((m) => m.type === 'error');
      expect(subscribed).toHaveLength(100);
      expect(refused).toHaveLength(5);
      expect(refused[0]!.message).toMatch(/at most 100 subscriptions/);
      expect(client.closeCode).toBeUndefined();
    } finally {
      client.close();
    }
  });
});
