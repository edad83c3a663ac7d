import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { largeClip } from './support/large-clip.ts';
import { startTestStack, waitFor, type TestStack } from './support/stack.ts';

/**
 * Direct-to-S3 uploads on the real emulator and a real worker: the client
 * PUTs parts to presigned URLs (the API never sees the bytes), completes,
 * and the video becomes ready.
 */
const KEY = 'k'.repeat(24);
const GLOBEX = 'g'.repeat(24);
let stack: TestStack;
let dir: string;
let clip: Buffer;

const auth = (key = KEY) => ({ authorization: `Bearer ${key}` });

interface Started {
  id: string;
  uploadId: string;
  partSize: number;
  parts: { partNumber: number; url: string; bytes: number }[];
  expiresAt: string;
}

async function start(body: Record<string, unknown>, headers: Record<string, string> = auth()): Promise<Response> {
  return fetch(`${stack.baseUrl}/v1/uploads`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function putParts(started: Started, bytes: Buffer): Promise<{ partNumber: number; etag: string }[]> {
  return Promise.all(
    started.parts.map(async ({ partNumber, url }) => {
      const chunk = bytes.subarray((partNumber - 1) * started.partSize, partNumber * started.partSize);
      const res = await fetch(url, { method: 'PUT', body: chunk });
      expect(res.status, await res.clone().text()).toBe(200);
      return { partNumber, etag: res.headers.get('etag')! };
    }),
  );
}

function complete(id: string, parts: unknown, headers: Record<string, string> = auth()): Promise<Response> {
  return fetch(`${stack.baseUrl}/v1/uploads/${id}/complete`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ parts }),
  });
}

beforeAll(async () => {
  stack = await startTestStack({ env: { REELAY_API_KEYS: `${KEY},globex:${GLOBEX}` } });
  dir = await mkdtemp(path.join(tmpdir(), 'reelay-direct-'));
  clip = await largeClip(stack.binaries.ffmpeg.path, dir);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('POST /v1/uploads (direct to S3)', () => {
  it('parts PUT to presigned URLs, completed, become a ready video with the same bytes', async () => {
    expect(clip.length).toBeGreaterThan(15 * 1024 * 1024);
    const tokenRes = await fetch(`${stack.baseUrl}/v1/tokens`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: '{"scope":"upload","priority":"high"}',
    });
    const { token } = (await tokenRes.json()) as { token: string };
    const res = await start({ filename: 'direct.mp4', size: clip.length, contentType: 'video/mp4' }, { authorization: `Bearer ${token}` });
    expect(res.status, await res.clone().text()).toBe(201);
    const started = (await res.json()) as Started;
    expect(started.partSize).toBe(5 * 1024 * 1024);
    expect(started.parts.map((p) => p.partNumber)).toEqual([1, 2, 3, 4]);
    expect(new URL(started.parts[0]!.url).searchParams.get('X-Amz-Signature')).toBeTruthy();
    // No video exists until the upload is complete.
    expect((await fetch(`${stack.baseUrl}/v1/videos/${started.id}`, { headers: auth() })).status).toBe(404);

    const parts = await putParts(started, clip);
    // The same token may finish what it started, and cannot start another.
    expect((await start({ size: 10, contentType: 'video/mp4' }, { authorization: `Bearer ${token}` })).status).toBe(403);
    const done = await complete(started.id, parts, { authorization: `Bearer ${token}` });
    expect(done.status, await done.clone().text()).toBe(202);
    const video = (await done.json()) as { id: string; status: string; priority: string; title: string };
    expect(video).toMatchObject({ id: started.id, status: 'queued', priority: 'high', title: 'direct' });

    const stored = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.resources.names.rawBucket, Key: `uploads/${video.id}` }),
    );
    const sha = createHash('sha256')
      .update(await stored.Body!.transformToByteArray())
      .digest('hex');
    expect(sha).toBe(createHash('sha256').update(clip).digest('hex'));

    const final = await waitFor(
      'ready',
      async () => {
        const body = (await (await fetch(`${stack.baseUrl}/v1/videos/${video.id}`, { headers: auth() })).json()) as {
          status: string;
          outputs: Record<string, { height: number }>;
        };
        return body.status === 'ready' || body.status === 'failed' ? body : undefined;
      },
      90_000,
    );
    expect(final.status).toBe('ready');
    expect(final.outputs['720p']?.height).toBe(720);
    // Completing again answers with the same video rather than a second one.
    const again = await complete(started.id, parts);
    expect(again.status).toBe(202);
    expect(((await again.json()) as { id: string }).id).toBe(video.id);
  }, 120_000);

  it('checks the object: missing parts, and a size other than announced, are 400s and leave no video', async () => {
    const started = (await (await start({ size: clip.length, contentType: 'video/mp4' })).json()) as Started;
    const parts = await putParts(started, clip);
    const missing = await complete(started.id, parts.slice(0, 3));
    expect(missing.status).toBe(400);

    const liar = (await (await start({ size: 6 * 1024 * 1024, contentType: 'video/mp4' })).json()) as Started;
    expect(liar.parts).toHaveLength(2);
    // Two parts whose total is smaller than announced.
    const short = await putParts(liar, clip.subarray(0, 5 * 1024 * 1024 + 100));
    const res = await complete(liar.id, short);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/not the 6291456 announced/);
    expect((await fetch(`${stack.baseUrl}/v1/videos/${liar.id}`, { headers: auth() })).status).toBe(404);
  }, 60_000);

  it('each part URL signs its exact size: 10 MiB PUT to a 1,000-byte upload never becomes a video (issue #23)', async () => {
    const started = (await (await start({ size: 6 * 1024 * 1024 + 1000, contentType: 'video/mp4' })).json()) as Started;
    // The last part is 1,000 bytes; the others the part size.
    expect(started.parts.map((p) => p.bytes)).toEqual([started.partSize, 6 * 1024 * 1024 + 1000 - started.partSize]);
    for (const { url, bytes } of started.parts) {
      const signed = new URL(url);
      expect(signed.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toContain('content-length');
      expect(bytes).toBeGreaterThan(0);
    }
    const small = (await (await start({ size: 1000, contentType: 'video/mp4' })).json()) as Started;
    expect(small.parts).toHaveLength(1);
    const put = await fetch(small.parts[0]!.url, { method: 'PUT', body: new Uint8Array(10 * 1024 * 1024) });
    // AWS refuses a body whose length is not the signed one (403 SignatureDoesNotMatch). The embedded
    // emulator does not check presigned signatures: there the PUT is stored, and completion is what refuses it.
    const putStatus = put.status;
    await put.body?.cancel();
    if (putStatus === 200) {
      const res = await complete(small.id, [{ partNumber: 1, etag: put.headers.get('etag') }]);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/10485760 bytes, not the 1000 announced/);
    } else {
      expect(putStatus).toBe(403);
    }
    expect((await fetch(`${stack.baseUrl}/v1/videos/${small.id}`, { headers: auth() })).status).toBe(404);
    console.info(`[direct-upload] a 10 MiB PUT to a 1,000-byte part URL on the emulator answered ${putStatus}`);
  }, 60_000);

  it('refuses what is too large or not a video, hides uploads from other tenants, and aborts', async () => {
    expect((await start({ size: 10 * 1024 ** 4, contentType: 'video/mp4' })).status).toBe(413);
    expect((await start({ size: 100, contentType: 'image/png' })).status).toBe(400);
    const started = (await (await start({ size: 100, contentType: 'video/mp4' })).json()) as Started;
    expect((await complete(started.id, [{ partNumber: 1, etag: '"x"' }], auth(GLOBEX))).status).toBe(404);
    expect((await fetch(`${stack.baseUrl}/v1/uploads/${started.id}`, { method: 'DELETE', headers: auth(GLOBEX) })).status).toBe(404);
    expect((await fetch(`${stack.baseUrl}/v1/uploads/${started.id}`, { method: 'DELETE', headers: auth() })).status).toBe(204);
    expect((await complete(started.id, [{ partNumber: 1, etag: '"x"' }])).status).toBe(404);
    // The part URL of an aborted upload no longer takes bytes.
    const put = await fetch(started.parts[0]!.url, { method: 'PUT', body: 'x'.repeat(100) });
    expect(put.status).toBeGreaterThanOrEqual(400);
  });
});
