import { request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * The three ways in — `POST /v1/videos`, direct uploads (`/v1/uploads`) and
 * tus (`/v1/tus/`) — decide alike (issue #25): the same request gets the same
 * answer at every door (priority, live recording channel, title, size limit,
 * single use of an upload token), through the real routes against the real
 * emulator. And an upload token is spent once, on a video the server made
 * (issue #23): not through a client-chosen `X-Request-Id`, and not by an
 * upload that was refused.
 */
const KEY = 'acme:' + 'a'.repeat(24);
const CLIP = new URL('../samples/small-480p.mkv', import.meta.url);
let stack: TestStack;
let clip: Buffer;

const keyHeader = { authorization: `Bearer ${KEY.slice(KEY.indexOf(':') + 1)}` };

interface Ask {
  priority?: string;
  title?: string;
  channelId?: string;
  filename?: string;
}

interface Outcome {
  status: number;
  video?: { id: string; priority: string; title?: string; channelId?: string; source: { bytes: number; filename?: string } };
  detail?: string;
}

type Door = (auth: Record<string, string>, ask: Ask, bytes: Buffer) => Promise<Outcome>;

async function outcome(res: Response): Promise<Outcome> {
  const body = (await res.json()) as Record<string, unknown>;
  return res.status === 202
    ? { status: 202, video: body as unknown as Outcome['video'] }
    : { status: res.status, detail: String(body.detail) };
}

/** `POST /v1/videos`, multipart: the file part and the fields. */
const videosDoor: Door = async (auth, ask, bytes) => {
  const form = new FormData();
  for (const name of ['priority', 'title', 'channelId'] as const) if (ask[name] !== undefined) form.set(name, ask[name]);
  form.set('file', new Blob([new Uint8Array(bytes)], { type: 'video/x-matroska' }), ask.filename ?? 'upload.mkv');
  return outcome(await fetch(`${stack.baseUrl}/v1/videos`, { method: 'POST', headers: auth, body: form }));
};

/** `POST /v1/uploads`, the part PUT to its presigned URL, then `/complete`. */
const directDoor: Door = async (auth, ask, bytes) => {
  const started = await fetch(`${stack.baseUrl}/v1/uploads`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ ...ask, filename: ask.filename ?? 'upload.mkv', size: bytes.length, contentType: 'video/x-matroska' }),
  });
  if (started.status !== 201) return outcome(started);
  const { id, parts } = (await started.json()) as { id: string; parts: { partNumber: number; url: string }[] };
  expect(parts).toHaveLength(1);
  const put = await fetch(parts[0]!.url, { method: 'PUT', body: new Uint8Array(bytes) });
  expect(put.status).toBe(200);
  return outcome(
    await fetch(`${stack.baseUrl}/v1/uploads/${id}/complete`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ parts: [{ partNumber: 1, etag: put.headers.get('etag') }] }),
    }),
  );
};

/** `POST /v1/tus/` with the whole file (creation-with-upload); the finished upload is the video. */
const tusDoor: Door = async (auth, ask, bytes) => {
  const metadata = Object.entries({ filetype: 'video/x-matroska', ...ask, filename: ask.filename ?? 'upload.mkv' })
    .map(([name, value]) => `${name} ${Buffer.from(value).toString('base64')}`)
    .join(',');
  const res = await fetch(`${stack.baseUrl}/v1/tus/`, {
    method: 'POST',
    headers: {
      ...auth,
      'tus-resumable': '1.0.0',
      'upload-length': String(bytes.length),
      'upload-metadata': metadata,
      'content-type': 'application/offset+octet-stream',
    },
    body: new Uint8Array(bytes),
  });
  if (res.status !== 201) return { status: res.status, detail: (await res.text()).trim() };
  expect(res.headers.get('upload-offset')).toBe(String(bytes.length));
  const id = res.headers.get('location')!.split('/').pop()!;
  const video = await fetch(`${stack.baseUrl}/v1/videos/${id}`, { headers: keyHeader });
  expect(video.status).toBe(200);
  return { status: 202, video: (await video.json()) as Outcome['video'] };
};

const DOORS: [string, Door][] = [
  ['POST /v1/videos', videosDoor],
  ['POST /v1/uploads', directDoor],
  ['POST /v1/tus/', tusDoor],
];

async function issue(body: Record<string, unknown>): Promise<Record<string, string>> {
  const res = await fetch(`${stack.baseUrl}/v1/tokens`, {
    method: 'POST',
    headers: { ...keyHeader, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return { authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
}

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false, env: { REELAY_API_KEYS: KEY } });
  clip = await readFile(CLIP);
  const live = await fetch(`${stack.baseUrl}/v1/channels/cam-1/live`, { method: 'POST', headers: keyHeader });
  expect(live.status).toBe(201);
});
afterAll(async () => stack?.stop());

describe.each(DOORS)('%s admits an upload by the same rules as every other door', (_name, door) => {
  it('priority: normal by default, high for a live recording, the one asked for over both', async () => {
    const plain = await door(keyHeader, { filename: 'holiday.mkv' }, clip);
    expect(plain.status, plain.detail).toBe(202);
    expect(plain.video).toMatchObject({
      priority: 'normal',
      title: 'holiday',
      source: { bytes: clip.length, filename: 'holiday.mkv' },
    });
    expect(plain.video).not.toHaveProperty('channelId');

    const recording = await door(keyHeader, { channelId: 'cam-1', title: 'Morning show' }, clip);
    expect(recording.video).toMatchObject({ priority: 'high', channelId: 'cam-1', title: 'Morning show' });

    const asked = await door(keyHeader, { channelId: 'cam-1', priority: 'low' }, clip);
    expect(asked.video).toMatchObject({ priority: 'low', channelId: 'cam-1' });
  });

  it('a channel that has never been live, or a malformed one, is a 400', async () => {
    const never = await door(keyHeader, { channelId: 'never-live' }, clip);
    expect(never.status).toBe(400);
    expect(never.detail).toMatch(/channel never-live has never been live/);
    expect((await door(keyHeader, { channelId: 'no spaces!' }, clip)).status).toBe(400);
  });

  it("an upload token's priority and size limit hold; asking for another priority is a 403", async () => {
    const low = await door(await issue({ scope: 'upload', priority: 'low' }), { channelId: 'cam-1' }, clip);
    expect(low.video).toMatchObject({ priority: 'low', channelId: 'cam-1' });
    const other = await door(await issue({ scope: 'upload', priority: 'low' }), { priority: 'high' }, clip);
    expect(other.status).toBe(403);
    expect(other.detail).toMatch(/fixes priority low/);
    const small = await door(await issue({ scope: 'upload', maxBytes: clip.length - 1 }), {}, clip);
    expect(small.status).toBe(413);
  });

  it('an upload token makes one video, whichever door spent it', async () => {
    const here = await issue({ scope: 'upload' });
    expect((await door(here, {}, clip)).status).toBe(202);
    const again = await door(here, {}, clip);
    expect(again.status).toBe(403);
    expect(again.detail).toMatch(/already been used/);
    for (const [, elsewhere] of DOORS) {
      const spentThere = await issue({ scope: 'upload' });
      expect((await elsewhere(spentThere, {}, clip)).status).toBe(202);
      expect((await door(spentThere, {}, clip)).status).toBe(403);
    }
  });

  it('a refused upload leaves the token unspent: the corrected retry makes the video', async () => {
    const token = await issue({ scope: 'upload', priority: 'low' });
    expect((await door(token, { priority: 'high' }, clip)).status).toBe(403);
    expect((await door(token, { channelId: 'never-live' }, clip)).status).toBe(400);
    expect((await door(token, {}, Buffer.alloc(0))).status).toBe(400);
    const retry = await door(token, {}, clip);
    expect(retry.status, retry.detail).toBe(202);
    expect(retry.video).toMatchObject({ priority: 'low' });
  });
});

describe('POST /v1/videos spends an upload token on the video it accepts (#23)', () => {
  const post = (headers: Record<string, string>, body: RequestInit['body'], extra: RequestInit = {}) =>
    fetch(`${stack.baseUrl}/v1/videos`, { method: 'POST', headers: { 'content-type': 'video/x-matroska', ...headers }, body, ...extra });

  it('the same X-Request-Id does not make a token reusable: one 202, then 403s', async () => {
    const token = await issue({ scope: 'upload' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post({ ...token, 'x-request-id': 'same' }, new Uint8Array(clip))).status);
    expect(statuses).toEqual([202, 403, 403, 403]);
  });

  it('an empty body (400) does not spend the token; the retry is accepted', async () => {
    const token = await issue({ scope: 'upload' });
    expect((await post(token, new Uint8Array(0))).status).toBe(400);
    const form = new FormData();
    form.set('file', new Blob([], { type: 'video/x-matroska' }), 'empty.mkv');
    const emptyPart = await fetch(`${stack.baseUrl}/v1/videos`, { method: 'POST', headers: token, body: form });
    expect(emptyPart.status).toBe(400);
    expect(((await emptyPart.json()) as { detail: string }).detail).toMatch(/empty/);
    expect((await post(token, new Uint8Array(clip))).status).toBe(202);
  });

  it('a body over the limit (413), announced or streamed, does not spend the token; the retry is accepted', async () => {
    const token = await issue({ scope: 'upload', maxBytes: 1000 });
    // Announced: Content-Length says too much.
    expect((await post(token, new Uint8Array(clip))).status).toBe(413);
    // Streamed without a length: refused once the 1,001st byte arrives.
    const chunks = [clip.subarray(0, 800), clip.subarray(800, 1600)];
    const streamed = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(new Uint8Array(next));
        else controller.close();
      },
    });
    expect((await post(token, streamed, { duplex: 'half' } as RequestInit)).status).toBe(413);
    const retry = await post(token, new Uint8Array(clip.subarray(0, 1000)));
    expect(retry.status, await retry.clone().text()).toBe(202);
    expect(((await retry.json()) as { source: { bytes: number } }).source.bytes).toBe(1000);
  });

  it('a token already spent is refused before the body is read', async () => {
    const token = await issue({ scope: 'upload' });
    expect((await post(token, new Uint8Array(clip))).status).toBe(202);
    // A 1 GiB upload that sends one chunk and then waits: the 403 must come without the rest.
    const url = new URL(`${stack.baseUrl}/v1/videos`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode!);
        req.destroy();
      });
      req.setHeader('authorization', token.authorization!);
      req.setHeader('content-type', 'video/x-matroska');
      req.setHeader('content-length', String(1024 ** 3));
      req.on('error', reject);
      req.write(clip.subarray(0, 1024));
    });
    expect(status).toBe(403);
  });
});
