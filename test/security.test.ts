import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';
import { ulid } from 'ulid';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrphanUploadSweeper } from '../api/uploads/orphan-uploads.ts';
import { newVideoId } from '../core/ids.ts';
import { silentLogger } from '../core/logger.ts';
import { SecretBox } from '../core/webhooks/secret-box.ts';
import { outputKey } from '../core/status-store.ts';
import { WebhookStore } from '../core/webhooks/store.ts';
import { queuedVideo } from '../core/video-status.ts';
import { createAwsClients, destroyAwsClients } from '../core/aws.ts';
import { startTestStack, waitFor, type TestStack } from './support/stack.ts';
import { WsClient } from './support/ws-client.ts';

/**
 * Issue #15 against the real API and emulator, with API keys on and the
 * private-address guard on (only IP literals are registered here, so no DNS
 * is asked; nothing is ever sent to them).
 */
const KEY = 'security-key-0123456789abcdef';
const OTHER_KEY = 'other-tenant-key-0123456789';
const THIRD_KEY = 'third-tenant-key-0123456789';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    withWorker: false,
    env: {
      REELAY_API_KEYS: `${KEY},other:${OTHER_KEY},third:${THIRD_KEY}`,
      // Small numbers so that the limits show in seconds.
      REELAY_UPLOAD_MIN_BYTES_PER_SECOND: '1000',
      REELAY_UPLOAD_RATE_WINDOW_SECONDS: '2',
      REELAY_MAX_CONCURRENT_UPLOADS: '2',
      REELAY_MAX_STREAMS_PER_KEY: '2',
      REELAY_CHANNEL_RATE_PER_MINUTE: '6',
      REELAY_WEBHOOK_MAX_ENDPOINTS: '3',
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

const auth = { authorization: `Bearer ${KEY}` };

async function registerWebhook(url: string): Promise<Response> {
  return fetch(`${stack.baseUrl}/v1/webhooks`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ url, events: ['video.ready'] }),
  });
}

async function webhookCount(): Promise<number> {
  const res = await fetch(`${stack.baseUrl}/v1/webhooks`, { headers: auth });
  return ((await res.json()) as { items: unknown[] }).items.length;
}

describe('webhook URLs (SSRF guard)', () => {
  it('refuses IPv4-compatible IPv6 (::/96) and IPv6 that embeds a private IPv4', async () => {
    const before = await webhookCount();
    for (const url of [
      'http://[::127.0.0.1]:9/',
      'http://[::a9fe:a9fe]/latest/meta-data',
      'http://[::10.0.0.1]/x',
      'http://[::8.8.8.8]/x',
      'http://[2606:4700::5efe:a00:1]/x',
      'http://[2606:4700::200:5efe:a9fe:a9fe]/x',
    ]) {
      const res = await registerWebhook(url);
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as { detail: string }).detail, url).toMatch(/non-public address/);
    }
    expect(await webhookCount()).toBe(before);
  });

  it('refuses credentials in the URL with a 400 pointing to signatures, and stores nothing', async () => {
    const before = await webhookCount();
    const res = await registerWebhook('https://user:hunter2@93.184.215.14/hooks');
    expect(res.status).toBe(400);
    const { detail } = (await res.json()) as { detail: string };
    expect(detail).toMatch(/credentials/);
    expect(detail).toMatch(/webhook-signature/);
    expect(detail).not.toContain('hunter2');
    expect(await webhookCount()).toBe(before);
  });
});

describe('caching of access-controlled outputs', () => {
  it('a presigned output link asks S3 for private caching, even for an object stored with public caching', async () => {
    // A ready video whose output was written before this rule (public, a year): its links must still say private.
    const id = newVideoId();
    const key = outputKey(id, 'thumbnail.jpg');
    await stack.clients.s3.send(
      new PutObjectCommand({
        Bucket: stack.resources.names.mediaBucket,
        Key: key,
        Body: Buffer.from('not really a jpeg'),
        ContentType: 'image/jpeg',
        CacheControl: 'public, max-age=31536000, immutable',
      }),
    );
    const doc = queuedVideo(id, 'default', 'normal', { key: `uploads/${id}`, bytes: 1, contentType: 'video/mp4' });
    await stack.store.create({
      ...doc,
      status: 'ready',
      outputs: { thumbnail: { key, contentType: 'image/jpeg', bytes: 17, width: 1, height: 1 } },
    });

    const redirect = await fetch(`${stack.baseUrl}/v1/videos/${id}/outputs/thumbnail`, { headers: auth, redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const link = new URL(redirect.headers.get('location')!);
    expect(link.hostname).toBe('127.0.0.1');
    // S3 answers a signed response-cache-control with that Cache-Control (fauxqs ignores the override, so
    // the parameter is what can be checked here; the stored header of new outputs is checked in pipeline.test.ts).
    expect(link.searchParams.get('response-cache-control')).toMatch(/^private\b/);
    expect(link.searchParams.get('X-Amz-SignedHeaders')).toBeTruthy();
    expect((await fetch(link)).status).toBe(200);
  });
});

/** Every raw object key (the raw bucket holds nothing but uploads). */
async function rawKeys(): Promise<Set<string>> {
  const keys = new Set<string>();
  let ContinuationToken: string | undefined;
  do {
    const page = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: stack.resources.names.rawBucket, ContinuationToken }));
    for (const o of page.Contents ?? []) keys.add(o.Key!);
    ContinuationToken = page.NextContinuationToken;
  } while (ContinuationToken);
  return keys;
}

/** Sends `head` and `body` on a fresh socket and returns everything the server wrote until it closed. */
async function rawRequest(head: string, body: Buffer | string): Promise<string> {
  const { port } = new URL(stack.baseUrl);
  const socket = connect(Number(port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.on('error', () => undefined);
  socket.write(head);
  socket.write(body);
  await closed;
  return answer;
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);

/** The API's `reelay_uploads_in_flight` gauge: uploads being streamed into S3 right now. */
async function uploadsInFlight(): Promise<number> {
  const text = await (await fetch(`${stack.baseUrl}/metrics`, { headers: auth })).text();
  return Number(/^reelay_uploads_in_flight (\S+)$/m.exec(text)?.[1]);
}

describe('rejected uploads leave no raw object', () => {
  it('a multipart body whose closing boundary never comes: 400 and the stored file is deleted', async () => {
    const before = await rawKeys();
    const file = Buffer.alloc(6 * 1024 * 1024, 7); // more than one 5 MiB part
    const body = Buffer.concat([
      Buffer.from('--B\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\nContent-Type: video/mp4\r\n\r\n'),
      file,
      Buffer.from('\r\n--B\r\nContent-Disposition: form-data; name="x"\r\n\r\nabc'),
    ]);
    const res = await fetch(`${stack.baseUrl}/v1/videos`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'multipart/form-data; boundary=B' },
      body,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/malformed multipart/);
    const after = await rawKeys();
    expect([...after].filter((k) => !before.has(k))).toEqual([]);
  });

  it('the safety net deletes raw uploads that no video points at, once old enough, and keeps the others', async () => {
    const { rawBucket } = stack.resources.names;
    const put = (id: string) =>
      stack.clients.s3.send(new PutObjectCommand({ Bucket: rawBucket, Key: `uploads/${id}`, Body: Buffer.from('left behind') }));
    const now = Date.now();
    const orphan = ulid(now - 2 * 3600_000);
    const recorded = ulid(now - 2 * 3600_000);
    const recent = ulid(now - 60_000);
    const ancient = ulid(now - 30 * 24 * 3600_000);
    await Promise.all([orphan, recorded, recent, ancient].map(put));
    await stack.store.create(queuedVideo(recorded, 'default', 'low', { key: `uploads/${recorded}`, bytes: 11, contentType: 'video/mp4' }));

    const sweeper = new OrphanUploadSweeper({ s3: stack.clients.s3, rawBucket, store: stack.store, logger: silentLogger() });
    const { removed } = await sweeper.sweep({ minAgeMs: 3600_000, windowMs: 7 * 24 * 3600_000, now });
    expect(removed).toEqual([orphan]);
    const left = await rawKeys();
    expect(left.has(`uploads/${orphan}`)).toBe(false);
    // With a video; younger than the minimum age (may still be on its way to a video); outside the window.
    for (const id of [recorded, recent, ancient]) expect(left.has(`uploads/${id}`), id).toBe(true);
  });

  it("a request whose Content-Length is shorter than its body: the complete upload is answered 202, not the parser's 400", async () => {
    const before = await rawKeys();
    const body = Buffer.alloc(4096, 9);
    const answer = await rawRequest(
      `POST /v1/videos HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: video/mp4\r\n` +
        `Content-Length: 1000\r\nConnection: close\r\n\r\n`,
      body,
    );
    const created = [...(await rawKeys())].filter((k) => !before.has(k));
    // The first 1000 bytes are a complete upload: it is stored, queued and answered 202 with its id.
    expect(statusOf(answer), answer.slice(0, 200)).toBe(202);
    const id = /"id":"([0-9A-Z]{26})"/.exec(answer)?.[1];
    expect(created).toEqual([`uploads/${id}`]);
    expect((await stack.store.get(id!))?.source.bytes).toBe(1000);
  });
});

describe('client text: control characters and lengths', () => {
  /** A multipart upload whose file part carries `filename` as raw UTF-8 bytes, as browsers send it. */
  async function uploadNamed(filename: string, fields: Record<string, string> = {}, { encoded = false } = {}): Promise<Response> {
    // RFC 5987 `filename*` carries characters a header cannot (CR, LF, NUL); plain `filename` is raw UTF-8.
    const disposition = encoded ? `filename*=UTF-8''${encodeURIComponent(filename)}` : `filename="${filename}"`;
    const parts = Object.entries(fields).map(
      ([name, value]) => `--B\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
    );
    const body = Buffer.concat([
      Buffer.from(parts.join(''), 'utf8'),
      Buffer.from(`--B\r\nContent-Disposition: form-data; name="file"; ${disposition}\r\nContent-Type: video/mp4\r\n\r\n`, 'utf8'),
      Buffer.alloc(1000, 1),
      Buffer.from('\r\n--B--\r\n'),
    ]);
    return fetch(`${stack.baseUrl}/v1/videos`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'multipart/form-data; boundary=B' },
      body,
    });
  }

  it('an uploaded file name loses CR, LF, NUL, ESC and U+202E, keeps other Unicode, and is capped at 255 characters', async () => {
    const res = await uploadNamed('cat\r\n\u0000\u001b[2Jclip\u202Egnp.mp4', {}, { encoded: true });
    expect(res.status).toBe(202);
    const doc = await stack.store.get(((await res.json()) as { id: string }).id);
    expect(doc?.source.filename).toBe('cat[2Jclipgnp.mp4');
    expect(doc?.title).toBe('cat[2Jclipgnp');

    const raw = await uploadNamed('Été\u202Egnp.mp4');
    expect(raw.status).toBe(202);
    expect((await stack.store.get(((await raw.json()) as { id: string }).id))?.source.filename).toBe('Étégnp.mp4');

    const long = await uploadNamed(`${'n'.repeat(15_000)}.mp4`);
    expect(long.status).toBe(202);
    const longDoc = await stack.store.get(((await long.json()) as { id: string }).id);
    expect(longDoc?.source.filename?.length).toBe(255);
  });

  it("a resumable (tus) upload's file name follows the same rule", async () => {
    const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
    const body = Buffer.alloc(2000, 3);
    const create = await fetch(`${stack.baseUrl}/v1/tus/`, {
      method: 'POST',
      headers: {
        ...auth,
        'tus-resumable': '1.0.0',
        'upload-length': String(body.length),
        'upload-metadata': `filename ${b64('C:\\x\\a\r\n\u001b]0;pwn\u0007\u202Egnp.mp4')},filetype ${b64('video/mp4')}`,
      },
    });
    expect(create.status).toBe(201);
    const patch = await fetch(`${stack.baseUrl}${create.headers.get('location')}`, {
      method: 'PATCH',
      headers: { ...auth, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body,
    });
    expect(patch.status).toBe(204);
    const id = /\/v1\/videos\/([0-9A-Z]{26})$/.exec(patch.headers.get('location') ?? '')?.[1];
    const doc = await stack.store.get(id!);
    expect(doc?.source.filename).toBe('a]0;pwngnp.mp4');
    expect(doc?.title).toBe('a]0;pwngnp');
  });

  it('an upload title with a C1 control or a bidi override is 400, and nothing is stored', async () => {
    const before = await rawKeys();
    for (const title of ['bad\u0085title', 'evil\u202Egnp.exe']) {
      const field = await uploadNamed('a.mp4', { title });
      expect(field.status, JSON.stringify(title)).toBe(400);
      expect(((await field.json()) as { detail: string }).detail).toMatch(/^title contains a control or bidirectional/);
      const query = await fetch(`${stack.baseUrl}/v1/videos?title=${encodeURIComponent(title)}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'video/mp4' },
        body: Buffer.alloc(100, 1),
      });
      expect(query.status, JSON.stringify(title)).toBe(400);
    }
    expect([...(await rawKeys())].filter((k) => !before.has(k))).toEqual([]);
  });

  it('a channel title with a bidi override or C1 control is 400', async () => {
    for (const title of ['Live \u202Eevil', 'Live\u009b2J', 'x'.repeat(201)]) {
      const res = await fetch(`${stack.baseUrl}/v1/channels/text-rules/live`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ title }),
      });
      expect(res.status, JSON.stringify(title)).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/^invalid body: title: /);
    }
  });
});

describe('webhook signing secrets at rest', () => {
  it('the stored webhook document holds the secret encrypted (AES-256-GCM under REELAY_SECRETS_KEY), never in plain text', async () => {
    // A public IP literal: registered, never called (no dispatcher runs in this stack).
    const res = await registerWebhook('https://93.184.215.14/hooks/reelay');
    expect(res.status).toBe(201);
    const { id, secret } = (await res.json()) as { id: string; secret: string };
    expect(secret).toMatch(/^whsec_/);
    const object = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.resources.names.mediaBucket, Key: `webhooks/${id}.json` }),
    );
    const stored = await object.Body!.transformToString();
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(secret.slice('whsec_'.length, 20));
    expect(JSON.parse(stored).secret).toMatch(/^enc:v1:/);
    // Only with the key does it open: what the dispatcher signs with.
    const withKey = new WebhookStore(stack.clients.s3, stack.resources.names.mediaBucket, new SecretBox(stack.config.secretsKey));
    expect((await withKey.get(id))?.secret).toBe(secret);
    const withoutKey = new WebhookStore(stack.clients.s3, stack.resources.names.mediaBucket);
    await expect(withoutKey.get(id)).rejects.toThrow(/REELAY_SECRETS_KEY is not set/);
    // Nor is it listed.
    const listed = await (await fetch(`${stack.baseUrl}/v1/webhooks/${id}`, { headers: auth })).text();
    expect(listed).not.toContain('secret');
  });

  it('the API process starts with API keys and no REELAY_SECRETS_KEY, says so, and answers 503 to webhook registration', async () => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.resolve(import.meta.dirname, '../api/main.ts')], {
      env: {
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL: stack.config.aws.endpoint,
        REELAY_PREFIX: stack.config.prefix,
        HOST: '127.0.0.1',
        PORT: '0',
        REELAY_LOG_FORMAT: 'json',
        REELAY_API_KEYS: KEY,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      // Before: a start-up error (exit 2). Now it listens.
      const url = await waitFor('the API to listen', () => {
        const line = output.split('\n').find((l) => l.includes('"api listening"'));
        return line ? (JSON.parse(line) as { url: string }).url : undefined;
      });
      expect(output).toMatch(/REELAY_SECRETS_KEY is not set: registering a webhook answers 503 until it is/);
      const res = await fetch(`${url}/v1/webhooks`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'https://93.184.215.14/hooks/reelay', events: ['video.ready'] }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as { detail: string }).detail).toMatch(/set REELAY_SECRETS_KEY .*openssl rand -hex 32/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});

describe('slow clients and concurrent connections', () => {
  /** Opens a raw upload announcing `announced` bytes and sends `chunk` bytes every `everyMs` until stopped. */
  async function trickle(key: string, announced: number, chunk: number, everyMs: number) {
    const { port } = new URL(stack.baseUrl);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.on('error', () => undefined);
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    const closedAt = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    socket.write(
      `POST /v1/videos HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${key}\r\nContent-Type: video/mp4\r\nContent-Length: ${announced}\r\n\r\n`,
    );
    let sent = 0;
    const timer = setInterval(() => {
      const n = Math.min(chunk, announced - sent);
      if (n <= 0 || socket.destroyed) return clearInterval(timer);
      socket.write(Buffer.alloc(n, 5));
      sent += n;
    }, everyMs);
    return { socket, closedAt, answer: () => answer, stop: () => (clearInterval(timer), socket.destroy()) };
  }

  it('an upload sending 1 byte every 300 ms is cut off with 408 after the rate window, leaving nothing', async () => {
    const before = await rawKeys();
    const started = Date.now();
    const slow = await trickle(KEY, 1_000_000, 1, 300);
    // Window 2 s, minimum 1000 bytes/s: cut after one or two windows, far before the 60 s idle timeout.
    const closedAt = await Promise.race([slow.closedAt, new Promise<number>((resolve) => setTimeout(() => resolve(0), 15_000))]);
    slow.stop();
    expect(closedAt, 'still open after 15 s').toBeGreaterThan(0);
    expect(closedAt - started).toBeLessThan(10_000);
    expect(statusOf(slow.answer())).toBe(408);
    expect(slow.answer()).toMatch(/REELAY_UPLOAD_MIN_BYTES_PER_SECOND/);
    const added = async () => [...(await rawKeys())].filter((k) => !before.has(k));
    await waitFor('no object left from the cut-off upload', async () => (await added()).length === 0 || undefined, 5000);
  });

  it('an upload that is slow but above the minimum (8 KB/s for 5 s, over two windows) completes', async () => {
    const upload = await trickle(KEY, 40_000, 4000, 500);
    await upload.closedAt;
    expect(statusOf(upload.answer()), upload.answer().slice(0, 300)).toBe(202);
  });

  it('a key may have 2 uploads in progress at once: the third is 429, another key is not affected', async () => {
    const held = [await trickle(KEY, 1_000_000, 4000, 250), await trickle(KEY, 1_000_000, 4000, 250)];
    try {
      await waitFor('both uploads to be streaming', async () => (await uploadsInFlight()) === 2 || undefined, 5000);
      const third = await fetch(`${stack.baseUrl}/v1/videos`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'video/mp4' },
        body: Buffer.alloc(500, 1),
      });
      expect(third.status).toBe(429);
      expect(((await third.json()) as { detail: string }).detail).toMatch(/2 uploads in progress \(REELAY_MAX_CONCURRENT_UPLOADS\)/);
      const other = await fetch(`${stack.baseUrl}/v1/videos`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OTHER_KEY}`, 'content-type': 'video/mp4' },
        body: Buffer.alloc(500, 1),
      });
      expect(other.status).toBe(202);
      // A resumable upload (its creation and each PATCH) counts against the same limit.
      const tus = await fetch(`${stack.baseUrl}/v1/tus/`, {
        method: 'POST',
        headers: {
          ...auth,
          'tus-resumable': '1.0.0',
          'upload-length': '100',
          'upload-metadata': `filetype ${Buffer.from('video/mp4').toString('base64')}`,
        },
      });
      expect(tus.status).toBe(429);
    } finally {
      for (const upload of held) upload.stop();
    }
    // The slots are given back when the uploads end.
    await waitFor('both uploads to end', async () => (await uploadsInFlight()) === 0 || undefined, 5000);
    const after = await fetch(`${stack.baseUrl}/v1/videos`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'video/mp4' },
      body: Buffer.alloc(500, 1),
    });
    expect(after.status).toBe(202);
  });

  it('a key may hold 2 event streams (SSE or WebSocket) open at once: the third is 429 until one closes', async () => {
    const open = async () => {
      const controller = new AbortController();
      const res = await fetch(`${stack.baseUrl}/v1/events`, { headers: auth, signal: controller.signal });
      if (res.status === 200) await res.body!.getReader().read(); // the stream is really open
      return { res, close: () => controller.abort() };
    };
    const first = await open();
    const second = await open();
    expect([first.res.status, second.res.status]).toEqual([200, 200]);
    const third = await open();
    expect(third.res.status).toBe(429);
    expect(((await third.res.json()) as { detail: string }).detail).toMatch(/REELAY_MAX_STREAMS_PER_KEY/);
    first.close();
    const again = await (async () => {
      for (let i = 0; i < 50; i++) {
        const attempt = await open();
        if (attempt.res.status === 200) return attempt;
        await attempt.res.body?.cancel();
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('a stream slot was never given back');
    })();
    // WebSockets count against the same limit: with two SSE streams open, the upgrade is refused with 429.
    await expect(WsClient.connect(`${stack.baseUrl}/v1/ws`, auth)).rejects.toMatchObject({ status: 429 });
    again.close();
    second.close();
    const ws = await (async () => {
      for (let i = 0; i < 50; i++) {
        try {
          return await WsClient.connect(`${stack.baseUrl}/v1/ws`, auth);
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      throw new Error('no WebSocket slot came free');
    })();
    const ws2 = await WsClient.connect(`${stack.baseUrl}/v1/ws`, auth);
    await expect(WsClient.connect(`${stack.baseUrl}/v1/ws`, auth)).rejects.toMatchObject({ status: 429 });
    ws.close();
    ws2.close();
  });
});

describe('per-key limits beyond uploads', () => {
  const as = (key: string) => ({ authorization: `Bearer ${key}` });

  it('live channel starts and ends are rate-limited per key (429 with Retry-After); reading is not', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${stack.baseUrl}/v1/channels/flappy/live`, {
        method: i % 2 === 0 ? 'POST' : 'DELETE',
        headers: as(THIRD_KEY),
      });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        expect(((await res.json()) as { detail: string }).detail).toMatch(/REELAY_CHANNEL_RATE_PER_MINUTE/);
      } else await res.body?.cancel();
    }
    // A burst of 6, refilled at 6 a minute: the 7th change in a row is refused.
    expect(
      statuses.slice(0, 6).every((s) => s === 200 || s === 201),
      statuses.join(),
    ).toBe(true);
    expect(
      statuses.slice(6).every((s) => s === 429),
      statuses.join(),
    ).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect((await fetch(`${stack.baseUrl}/v1/channels/flappy/live`, { headers: as(THIRD_KEY) })).status).toBe(200);
    // Another key has its own budget.
    expect((await fetch(`${stack.baseUrl}/v1/channels/steady/live`, { method: 'POST', headers: as(OTHER_KEY) })).status).toBe(201);
  });

  it('a tenant may register REELAY_WEBHOOK_MAX_ENDPOINTS endpoints; one more is 409 until one is deleted', async () => {
    const register = (n: number) =>
      fetch(`${stack.baseUrl}/v1/webhooks`, {
        method: 'POST',
        headers: { ...as(THIRD_KEY), 'content-type': 'application/json' },
        body: JSON.stringify({ url: `https://93.184.215.14/hooks/${n}`, events: ['video.ready'] }),
      });
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) {
      const res = await register(n);
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const fourth = await register(3);
    expect(fourth.status).toBe(409);
    expect(((await fourth.json()) as { detail: string }).detail).toMatch(
      /already has 3 webhook endpoints \(REELAY_WEBHOOK_MAX_ENDPOINTS\)/,
    );
    // Another tenant is not affected.
    expect((await registerWebhook('https://93.184.215.14/hooks/default')).status).toBe(201);
    expect((await fetch(`${stack.baseUrl}/v1/webhooks/${ids[0]}`, { method: 'DELETE', headers: as(THIRD_KEY) })).status).toBe(204);
    expect((await register(4)).status).toBe(201);
  });

  it("listing the endpoints (what every event's fan-out does) reads a document only when it changed", async () => {
    // The store's own S3 client, counting what it sends.
    const clients = createAwsClients(stack.config.aws);
    const sent: string[] = [];
    clients.s3.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(context.commandName ?? '');
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
    try {
      const store = new WebhookStore(clients.s3, stack.resources.names.mediaBucket, new SecretBox(stack.config.secretsKey));
      const first = await store.list();
      expect(first.length).toBeGreaterThanOrEqual(4);
      expect(sent.filter((c) => c === 'GetObjectCommand').length).toBe(first.length);
      sent.length = 0;
      for (let i = 0; i < 5; i++) expect((await store.list()).map((w) => w.id)).toEqual(first.map((w) => w.id));
      expect(sent.filter((c) => c === 'GetObjectCommand')).toEqual([]);
      expect(sent.filter((c) => c === 'ListObjectsV2Command').length).toBe(5);
      // One webhook changes (a failed delivery recorded): only it is read again, and the change is seen.
      const changed = first[0]!;
      await new WebhookStore(stack.clients.s3, stack.resources.names.mediaBucket, new SecretBox(stack.config.secretsKey)).recordFailure(
        changed.id,
        {
          at: new Date().toISOString(),
          eventId: 'e',
          eventType: 'video.ready',
          attempts: 1,
          reason: 'test',
        },
      );
      sent.length = 0;
      const after = await store.list();
      expect(sent.filter((c) => c === 'GetObjectCommand').length).toBe(1);
      expect(after.find((w) => w.id === changed.id)?.failureCount).toBe(changed.failureCount + 1);
      // Listing leaves the secrets out; recording the failure kept the stored one, which still opens.
      expect(after.find((w) => w.id === changed.id)).not.toHaveProperty('secret');
      expect((await store.get(changed.id))?.secret).toMatch(/^whsec_/);
    } finally {
      destroyAwsClients(clients);
    }
  });
});
