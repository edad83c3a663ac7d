import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiInstance, type ApiInstance } from './support/api-instance.ts';
import { largeClip } from './support/large-clip.ts';
import { startTestStack, waitFor, type TestStack } from './support/stack.ts';

/**
 * tus 1.0 at /v1/tus/ with the real `tus-js-client` from Node against the
 * real emulator: the connection is cut at ~40 % (a TCP proxy drops it, as a
 * dying client or network would), the upload resumes — also on another API
 * process after the first one stopped — and the stored object is the source,
 * byte for byte; the video becomes ready.
 */
const KEY = 'k'.repeat(24);
const OTHER = 'o'.repeat(24);
let stack: TestStack;
let dir: string;
let clip: Buffer;
let sha: string;

const auth = (key = KEY) => ({ authorization: `Bearer ${key}` });

/** A TCP proxy to an API that drops both sides once `cutAfter` bytes went from the client to the server. */
class CuttingProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  forwarded = 0;
  cut = false;
  private readonly target: string;
  private readonly cutAfter: number;
  constructor(target: string, cutAfter: number) {
    this.target = target;
    this.cutAfter = cutAfter;
  }

  async start(): Promise<string> {
    const { hostname, port } = new URL(this.target);
    this.server = createServer((client) => {
      const upstream = connect(Number(port), hostname);
      this.sockets.add(client).add(upstream);
      client.on('data', (chunk: Buffer) => {
        this.forwarded += chunk.length;
        if (this.forwarded >= this.cutAfter) {
          this.cut = true;
          client.destroy();
          upstream.destroy();
          return;
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        a.on('error', () => b.destroy());
        a.on('close', () => b.destroy());
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** Runs one tus-js-client upload to its end: the upload URL, or the error that stopped it. */
function runUpload(options: ConstructorParameters<typeof Upload>[1]): Promise<{ url: string | null; error?: Error; progress: number }> {
  return new Promise((resolve) => {
    let progress = 0;
    const upload: Upload = new Upload(clip, {
      retryDelays: [],
      metadata: { filename: 'noise.mp4', filetype: 'video/mp4', title: 'resumed upload' },
      ...options,
      onProgress: (sent, total) => (progress = sent / total),
      onSuccess: () => resolve({ url: upload.url, progress }),
      onError: (error) => resolve({ url: upload.url, error, progress }),
    });
    upload.start();
  });
}

async function head(url: string, headers = auth()): Promise<Response> {
  return fetch(url, { method: 'HEAD', headers: { ...headers, 'tus-resumable': '1.0.0' } });
}

async function storedSha(id: string): Promise<string> {
  const object = await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.resources.names.rawBucket, Key: `tus/${id}` }));
  return createHash('sha256')
    .update(await object.Body!.transformToByteArray())
    .digest('hex');
}

beforeAll(async () => {
  stack = await startTestStack({ env: { REELAY_API_KEYS: `${KEY},globex:${OTHER}` } });
  dir = await mkdtemp(path.join(tmpdir(), 'reelay-tus-'));
  clip = await largeClip(stack.binaries.ffmpeg.path, dir);
  sha = createHash('sha256').update(clip).digest('hex');
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('tus at /v1/tus/', () => {
  it('cut at ~40 %, resumed after the API process restarted, stores the same bytes and ends ready', async () => {
    expect(clip.length).toBeGreaterThan(15 * 1024 * 1024);
    const tokenRes = await fetch(`${stack.baseUrl}/v1/tokens`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: '{"scope":"upload"}',
    });
    const { token } = (await tokenRes.json()) as { token: string };
    const bearer = { authorization: `Bearer ${token}` };

    let first: ApiInstance | undefined = await startApiInstance(stack);
    const proxy = new CuttingProxy(first.baseUrl, Math.round(clip.length * 0.4));
    const viaProxy = await proxy.start();
    const cut = await runUpload({ endpoint: `${viaProxy}/v1/tus/`, headers: bearer });
    await proxy.stop();
    expect(proxy.cut).toBe(true);
    expect(cut.error).toBeDefined();
    expect(cut.url).toMatch(/\/v1\/tus\/[0-9A-Z]{26}$/);
    const id = cut.url!.split('/').pop()!;
    const uploadPath = `/v1/tus/${id}`;

    // What the server kept: whole parts, less than the file. The server goes on storing the part it had
    // whole when the connection dropped, so the offset can still be 0 for a moment after the client's error.
    const before = await waitFor(
      'the first part stored',
      async () => {
        const res = await head(`${first!.baseUrl}${uploadPath}`, bearer);
        expect(res.status).toBe(200);
        return Number(res.headers.get('upload-offset')) > 0 ? res : undefined;
      },
      15_000,
    );
    const offset = Number(before.headers.get('upload-offset'));
    expect(offset).toBeLessThan(clip.length * 0.4);
    expect(before.headers.get('upload-length')).toBe(String(clip.length));
    // Another tenant does not see it; no video exists yet.
    expect((await head(`${first.baseUrl}${uploadPath}`, auth(OTHER))).status).toBe(404);
    expect((await fetch(`${stack.baseUrl}/v1/videos/${id}`, { headers: auth() })).status).toBe(404);

    // The API process goes away; a new one (nothing in memory) takes the resumed upload.
    await first.stop();
    first = undefined;
    const second = await startApiInstance(stack);
    try {
      const resumed = await runUpload({
        endpoint: `${second.baseUrl}/v1/tus/`,
        uploadUrl: `${second.baseUrl}${uploadPath}`,
        headers: bearer,
      });
      expect(resumed.error).toBeUndefined();
      expect(resumed.url).toBe(`${second.baseUrl}${uploadPath}`);
      const after = await head(`${second.baseUrl}${uploadPath}`, bearer);
      expect(after.headers.get('upload-offset')).toBe(String(clip.length));
      // The finished upload leads to its video.
      const redirect = await fetch(`${second.baseUrl}${uploadPath}`, { headers: auth(), redirect: 'manual' });
      expect(redirect.status).toBe(303);
      expect(redirect.headers.get('location')).toBe(`/v1/videos/${id}`);
    } finally {
      await second.stop();
    }
    expect(await storedSha(id)).toBe(sha);

    const final = await waitFor(
      'ready',
      async () => {
        const body = (await (await fetch(`${stack.baseUrl}/v1/videos/${id}`, { headers: auth() })).json()) as {
          status: string;
          title: string;
          source: { bytes: number };
        };
        return body.status === 'ready' || body.status === 'failed' ? body : undefined;
      },
      90_000,
    );
    expect(final).toMatchObject({ status: 'ready', title: 'resumed upload', source: { bytes: clip.length } });
    // The token created this one upload: it cannot create another.
    const again = await runUpload({ endpoint: `${stack.baseUrl}/v1/tus/`, headers: bearer });
    expect(again.error?.message).toMatch(/403/);
  }, 180_000);

  it('a client that dies mid-upload resumes on the same process; creation-with-upload, termination, and bad metadata', async () => {
    const proxy = new CuttingProxy(stack.baseUrl, Math.round(clip.length * 0.4));
    const viaProxy = await proxy.start();
    const cut = await runUpload({ endpoint: `${viaProxy}/v1/tus/`, headers: auth(), uploadDataDuringCreation: true });
    await proxy.stop();
    expect(cut.error).toBeDefined();
    // With creation-with-upload the upload URL only arrives with the response: a cut POST leaves none, so the
    // client starts over. Without it (next), the upload exists before the bytes flow and can be resumed.
    const proxy2 = new CuttingProxy(stack.baseUrl, Math.round(clip.length * 0.4));
    const via2 = await proxy2.start();
    const second = await runUpload({ endpoint: `${via2}/v1/tus/`, headers: auth() });
    await proxy2.stop();
    expect(second.error).toBeDefined();
    const id = second.url!.split('/').pop()!;
    const resumed = await runUpload({ endpoint: `${stack.baseUrl}/v1/tus/`, uploadUrl: `${stack.baseUrl}/v1/tus/${id}`, headers: auth() });
    expect(resumed.error).toBeUndefined();
    expect(await storedSha(id)).toBe(sha);

    // Termination of an unfinished upload.
    const create = await fetch(`${stack.baseUrl}/v1/tus/`, {
      method: 'POST',
      headers: {
        ...auth(),
        'tus-resumable': '1.0.0',
        'upload-length': '1000',
        'upload-metadata': `filetype ${Buffer.from('video/mp4').toString('base64')}`,
      },
    });
    expect(create.status).toBe(201);
    // Expiration extension: the upload may be resumed for a day.
    expect(Date.parse(create.headers.get('upload-expires')!) - Date.now()).toBeGreaterThan(23 * 3600_000);
    const location = create.headers.get('location')!;
    expect(location).toMatch(/^\/v1\/tus\/[0-9A-Z]{26}$/);
    expect(
      (await fetch(`${stack.baseUrl}${location}`, { method: 'DELETE', headers: { ...auth(OTHER), 'tus-resumable': '1.0.0' } })).status,
    ).toBe(404);
    expect(
      (await fetch(`${stack.baseUrl}${location}`, { method: 'DELETE', headers: { ...auth(), 'tus-resumable': '1.0.0' } })).status,
    ).toBe(204);
    expect((await head(`${stack.baseUrl}${location}`)).status).toBe(404);

    const bad = (metadata: string, length = '1000') =>
      fetch(`${stack.baseUrl}/v1/tus/`, {
        method: 'POST',
        headers: { ...auth(), 'tus-resumable': '1.0.0', 'upload-length': length, 'upload-metadata': metadata },
      });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    expect((await bad(`filetype ${b64('image/png')}`)).status).toBe(415);
    expect((await bad(`priority ${b64('urgent')}`)).status).toBe(400);
    expect((await bad(`channelId ${b64('never-live')}`)).status).toBe(400);
    expect((await bad(`filetype ${b64('video/mp4')}`, String(10 * 1024 ** 3))).status).toBe(413);
    // Without credentials: the API's usual 401.
    expect(
      (await fetch(`${stack.baseUrl}/v1/tus/`, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '10' } })).status,
    ).toBe(401);
  }, 120_000);
});

describe('tus across API processes (#23 item 12)', () => {
  it('one upload PATCHed through two API processes at once (the lock is per process) still stores the same bytes, as one video', async () => {
    const second = await startApiInstance(stack);
    try {
      const tus = { ...auth(), 'tus-resumable': '1.0.0' };
      const created = await fetch(`${stack.baseUrl}/v1/tus/`, {
        method: 'POST',
        headers: {
          ...tus,
          'upload-length': String(clip.length),
          'upload-metadata': `filename ${Buffer.from('twice.mp4').toString('base64')}`,
        },
      });
      expect(created.status).toBe(201);
      const uploadPath = new URL(created.headers.get('location')!, stack.baseUrl).pathname;
      const id = uploadPath.split('/').pop()!;
      // A client whose PATCH seemed lost sends it again through another process while the first still runs.
      // Both bodies are held until both requests are under way, so both processes check the offset (0) before
      // either stores a byte: nothing on the server can be watched for that, hence the short wait.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const patch = (base: string) =>
        fetch(`${base}${uploadPath}`, {
          method: 'PATCH',
          headers: {
            ...tus,
            'upload-offset': '0',
            'content-type': 'application/offset+octet-stream',
            'content-length': String(clip.length),
          },
          body: new ReadableStream({
            async pull(controller) {
              await gate;
              controller.enqueue(new Uint8Array(clip));
              controller.close();
            },
          }),
          duplex: 'half',
        } as RequestInit);
      const both = Promise.all([patch(stack.baseUrl), patch(second.baseUrl)]);
      setTimeout(release, 500);
      const responses = await both;
      const statuses = responses.map((r) => r.status);
      // Both stream their bytes (each process writes the same parts, which S3 replaces by number); the one that
      // ends second finds the upload finished: 409 with a sentence (204 204 would be as right), never a 5xx.
      for (const status of statuses) expect([204, 409]).toContain(status);
      expect(statuses).toContain(204);
      const after = await head(`${stack.baseUrl}${uploadPath}`);
      expect(after.headers.get('upload-offset')).toBe(String(clip.length));
      expect(await storedSha(id)).toBe(sha);
      const body = (await (await fetch(`${stack.baseUrl}/v1/videos/${id}`, { headers: auth() })).json()) as { id: string };
      expect(body.id).toBe(id);
    } finally {
      await second.stop();
    }
  }, 120_000);
});
