import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrphanUploadSweeper } from '../api/uploads/orphan-uploads.ts';
import { silentLogger } from '../core/logger.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * tus (`/v1/tus/`) against hostile clients, through the real routes and the
 * real emulator (issue #23 items 3 and 9): the upload rate limit covers every
 * path tus creates on; abandoned uploads expire (their `.info`, parts and
 * ledger are deleted); client metadata never becomes an S3 header; a PATCH
 * that cannot be served is a 4xx with a sentence, not a 500.
 */
const KEY = 'tus-hostile-key-0123456789';
const LIMITED_KEY = 'limited:tus-limited-key-0123456789';
const SLASHLESS_KEY = 'slashless:tus-slashless-key-0123456789';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    withWorker: false,
    env: { REELAY_API_KEYS: `${KEY},${LIMITED_KEY},${SLASHLESS_KEY}`, REELAY_UPLOAD_BURST: '5', REELAY_UPLOAD_RATE_PER_MINUTE: '60' },
  });
});
afterAll(async () => {
  await stack?.stop();
});

const auth = (key = KEY) => ({ authorization: `Bearer ${key.slice(key.indexOf(':') + 1)}` });
const b64 = (s: string) => Buffer.from(s).toString('base64');
const tusHeaders = (length: number, metadata: Record<string, string> = {}) => ({
  ...auth(),
  'tus-resumable': '1.0.0',
  'upload-length': String(length),
  'upload-metadata': Object.entries({ filetype: 'video/mp4', filename: 'clip.mp4', title: 'a title', ...metadata })
    .map(([k, v]) => `${k} ${b64(v)}`)
    .join(','),
});

/** Creates a tus upload of `length` bytes with `body` sent at once; its id. */
async function create(length: number, body?: Buffer, metadata?: Record<string, string>): Promise<{ res: Response; id: string }> {
  const res = await fetch(`${stack.baseUrl}/v1/tus/`, {
    method: 'POST',
    headers: { ...tusHeaders(length, metadata), ...(body ? { 'content-type': 'application/offset+octet-stream' } : {}) },
    ...(body ? { body: new Uint8Array(body) } : {}),
  });
  return { res, id: res.headers.get('location')?.split('/').pop() ?? '' };
}

async function rawKeys(prefix: string): Promise<string[]> {
  const page = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: stack.resources.names.rawBucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

describe('tus: the upload rate limit', () => {
  it('counts a POST to any path below /v1/tus (issue #23: 25 × POST /v1/tus/x were 25 × 201)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await fetch(`${stack.baseUrl}/v1/tus/x`, { method: 'POST', headers: { ...tusHeaders(1000), ...auth(LIMITED_KEY) } });
      statuses.push(res.status);
      await res.body?.cancel();
    }
    // A burst of 5 (plus what refills during the loop, one a second).
    expect(statuses.filter((s) => s === 429).length, statuses.join(' ')).toBeGreaterThanOrEqual(15);
    expect(statuses.filter((s) => s === 201).length, statuses.join(' ')).toBeLessThanOrEqual(10);
  });

  it('counts a POST /v1/tus (no slash) once: the whole burst of 5 is allowed', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${stack.baseUrl}/v1/tus`, { method: 'POST', headers: { ...tusHeaders(1000), ...auth(SLASHLESS_KEY) } });
      statuses.push(res.status);
      await res.body?.cancel();
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201]);
  });
});

describe('tus: abandoned uploads expire', () => {
  it('the sweep deletes an abandoned upload whole, and only the bookkeeping of one that became a video', async () => {
    // 9 MiB of 20: one stored part (8 MiB, with its ledger entry) and an incomplete `.part`.
    const abandoned = await create(20 * 1024 * 1024, Buffer.alloc(9 * 1024 * 1024, 1));
    expect(abandoned.res.status).toBe(201);
    expect(abandoned.res.headers.get('upload-offset')).toBe(String(9 * 1024 * 1024));
    const finished = await create(1000, Buffer.alloc(1000, 2));
    expect(finished.res.status).toBe(201);
    expect(await rawKeys(`tus/${abandoned.id}`)).toEqual(
      [`tus/${abandoned.id}.info`, `tus/${abandoned.id}.part`, `tus/${abandoned.id}.parts/00001`].sort(),
    );
    expect(await rawKeys(`tus/${finished.id}`)).toContain(`tus/${finished.id}.info`);

    const sweeper = new OrphanUploadSweeper({
      s3: stack.clients.s3,
      rawBucket: stack.resources.names.rawBucket,
      store: stack.store,
      logger: silentLogger(),
    });
    // Nothing is a day old yet.
    expect((await sweeper.sweep()).tusRemoved).not.toContain(abandoned.id);
    expect(await rawKeys(`tus/${abandoned.id}`)).toHaveLength(3);
    // A day and a minute later.
    const { tusRemoved } = await sweeper.sweep({ now: Date.now() + 24 * 3600_000 + 60_000 });
    expect(tusRemoved).toEqual(expect.arrayContaining([abandoned.id, finished.id]));
    expect(await rawKeys(`tus/${abandoned.id}`)).toEqual([]);
    expect(await rawKeys(`tus/${finished.id}`)).toEqual([`tus/${finished.id}`]);
    expect((await stack.store.get(finished.id))?.source.key).toBe(`tus/${finished.id}`);
  });
});

describe('tus: client metadata and errors', () => {
  it('metadata with CR/LF (cacheControl, contentType, anything) never reaches an S3 header: 201, not 500', async () => {
    const { res, id } = await create(1000, Buffer.alloc(1000, 3), {
      cacheControl: 'no-cache\r\nX-Injected: 1',
      contentType: 'video/mp4\r\nX-Injected: 1',
      whatever: 'a\r\nb',
    });
    expect(res.status, await res.text()).toBe(201);
    const head = await stack.clients.s3.send(new HeadObjectCommand({ Bucket: stack.resources.names.rawBucket, Key: `tus/${id}` }));
    expect(head.CacheControl).toBeUndefined();
    expect(head.ContentType).not.toMatch(/X-Injected/);
    // Plain ones do not reach S3 either: the stored object's headers are the API's.
    const plain = await create(1000, Buffer.alloc(1000, 3), { cacheControl: 'public, max-age=31536000' });
    expect(plain.res.status).toBe(201);
    const plainHead = await stack.clients.s3.send(
      new HeadObjectCommand({ Bucket: stack.resources.names.rawBucket, Key: `tus/${plain.id}` }),
    );
    expect(plainHead.CacheControl).toBeUndefined();
  });

  it("a zero-length PATCH after the upload finished is a 4xx with a sentence, not S3's raw NoSuchUpload in a 500", async () => {
    const { res, id } = await create(1000, Buffer.alloc(1000, 4));
    expect(res.status).toBe(201);
    const patch = await fetch(`${stack.baseUrl}/v1/tus/${id}`, {
      method: 'PATCH',
      headers: { ...auth(), 'tus-resumable': '1.0.0', 'upload-offset': '1000', 'content-type': 'application/offset+octet-stream' },
      body: new Uint8Array(0),
    });
    const text = await patch.text();
    expect(patch.status, text).toBeGreaterThanOrEqual(400);
    expect(patch.status, text).toBeLessThan(500);
    expect(text).not.toMatch(/NoSuchUpload|specified upload does not exist/i);
    expect(text).toMatch(/finished/);
  });
});
