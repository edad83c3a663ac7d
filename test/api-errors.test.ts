import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from './support/stack.ts';

/**
 * Bad requests get the right 4xx with an RFC 9457 problem+json body, and
 * leave nothing behind. Runs the real API against the real emulator; no
 * worker runs, so uploaded videos stay queued.
 */
let stack: TestStack;
const MAX = 1024 * 1024;

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false, env: { REELAY_MAX_UPLOAD_BYTES: String(MAX) } });
});
afterAll(async () => {
  await stack?.stop();
});

async function expectProblem(res: Response, status: number, detail: RegExp): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = (await res.json()) as { status: number; title: string; detail: string; type: string };
  expect(body).toMatchObject({ status, type: 'about:blank' });
  expect(body.title).toBeTruthy();
  expect(body.detail).toMatch(detail);
}

async function rawObjectCount(): Promise<number> {
  const res = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: stack.resources.names.rawBucket }));
  return res.KeyCount ?? 0;
}

const videoBytes = (n: number) => new Uint8Array(n).fill(7);
const post = (query: string, init: RequestInit) => fetch(`${stack.baseUrl}/v1/videos${query}`, { method: 'POST', ...init });

describe('POST /v1/videos rejects bad uploads', () => {
  it('empty raw body → 400', async () => {
    await expectProblem(await post('', { headers: { 'content-type': 'video/mp4' }, body: new Uint8Array(0) }), 400, /empty/);
  });

  it('empty multipart file → 400, and the empty object is removed', async () => {
    const before = await rawObjectCount();
    const form = new FormData();
    form.set('file', new Blob([]), 'empty.mp4');
    await expectProblem(await post('', { body: form }), 400, /empty/);
    expect(await rawObjectCount()).toBe(before);
  });

  it('multipart without a file field → 400', async () => {
    const form = new FormData();
    form.set('title', 'no file here');
    await expectProblem(await post('', { body: form }), 400, /no `file` field/);
  });

  it('unknown priority in the query → 400 before anything is read', async () => {
    await expectProblem(
      await post('?priority=urgent', { headers: { 'content-type': 'video/mp4' }, body: videoBytes(10) }),
      400,
      /priority must be one of high, normal, low/,
    );
  });

  it('unknown priority in a form field → 400, and the stored upload is removed', async () => {
    const before = await rawObjectCount();
    const form = new FormData();
    form.set('file', new Blob([videoBytes(100)]), 'a.mp4');
    form.set('priority', 'asap');
    await expectProblem(await post('', { body: form }), 400, /priority/);
    expect(await rawObjectCount()).toBe(before);
  });

  it('a title that is too long → 400', async () => {
    await expectProblem(
      await post(`?title=${'x'.repeat(201)}`, { headers: { 'content-type': 'video/mp4' }, body: videoBytes(10) }),
      400,
      /title/,
    );
  });

  it('a body that is not a video → 415', async () => {
    await expectProblem(await post('', { headers: { 'content-type': 'text/plain' }, body: 'hello' }), 415, /multipart\/form-data/);
  });

  it('over-size with a declared length → 413 at once', async () => {
    await expectProblem(
      await post('', { headers: { 'content-type': 'video/mp4' }, body: videoBytes(MAX + 1) }),
      413,
      /larger than the limit of 1048576 bytes/,
    );
  });

  it('over-size streamed without a length → 413 while streaming, no object left behind', async () => {
    const before = await rawObjectCount();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 3 * MAX) return controller.close();
        sent += 64 * 1024;
        controller.enqueue(videoBytes(64 * 1024));
      },
    });
    const res = await post('', { headers: { 'content-type': 'application/octet-stream' }, body, duplex: 'half' } as RequestInit);
    await expectProblem(res, 413, /larger than the limit/);
    expect(await rawObjectCount()).toBe(before);
  });

  it('over-size multipart → 413, no object left behind', async () => {
    const before = await rawObjectCount();
    const form = new FormData();
    form.set('file', new Blob([videoBytes(2 * MAX)]), 'big.mp4');
    await expectProblem(await post('', { body: form }), 413, /larger than the limit/);
    expect(await rawObjectCount()).toBe(before);
  });

  it('malformed multipart → 400', async () => {
    const res = await post('', {
      headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\npartial data without an end',
    });
    await expectProblem(res, 400, /multipart/);
  });
});

describe('reading videos', () => {
  it('unknown or malformed id → 404', async () => {
    await expectProblem(await fetch(`${stack.baseUrl}/v1/videos/01ARZ3NDEKTSV4RRFFQ69G5FAV`), 404, /no video with id/);
    await expectProblem(await fetch(`${stack.baseUrl}/v1/videos/..%2F..%2Fetc`), 404, /no video with id/);
  });

  it('outputs of a video that is not ready → 409; unknown output → 404', async () => {
    const res = await post('', { headers: { 'content-type': 'video/mp4' }, body: videoBytes(1000) });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await expectProblem(await fetch(`${stack.baseUrl}/v1/videos/${id}/outputs/720p`), 409, /queued/);
    // No worker runs here: the status steps a worker would take, written directly.
    await stack.store.transition(id, 'start');
    const output = { key: `videos/${id}/360p.mp4`, contentType: 'video/mp4', bytes: 1, width: 640, height: 360 };
    await stack.store.transition(id, 'finish', () => ({ outputs: { '360p': output } }));
    await expectProblem(await fetch(`${stack.baseUrl}/v1/videos/${id}/outputs/4k`), 404, /has no output named "4k"; it has 360p/);
  });

  it('outputs of a failed video → 404 with the failure reason, not a 409 to wait out', async () => {
    const res = await post('', { headers: { 'content-type': 'video/mp4' }, body: videoBytes(1000) });
    const { id } = (await res.json()) as { id: string };
    await stack.store.transition(id, 'fail', () => ({ error: { code: 'unreadable_input', message: 'the file is not a video' } }));
    await expectProblem(
      await fetch(`${stack.baseUrl}/v1/videos/${id}/outputs/720p`),
      404,
      /failed \(unreadable_input\): the file is not a video; it has no outputs/,
    );
  });

  it('lists newest first, in pages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await post(`?title=page-${i}`, { headers: { 'content-type': 'video/mp4' }, body: videoBytes(100) });
      const { id, createdAt } = (await res.json()) as { id: string; createdAt: string };
      ids.push(id);
      // The list is ordered by creation time in milliseconds: the next upload must be created in a later one.
      await waitFor('a later millisecond', () => Date.now() > Date.parse(createdAt) || undefined);
    }
    const first = (await (await fetch(`${stack.baseUrl}/v1/videos?limit=2`)).json()) as { items: { id: string }[]; nextCursor: string };
    expect(first.items.map((v) => v.id)).toEqual([ids[2], ids[1]]);
    expect(first.nextCursor).toBeTruthy();
    const second = (await (await fetch(`${stack.baseUrl}/v1/videos?limit=2&cursor=${first.nextCursor}`)).json()) as {
      items: { id: string }[];
    };
    expect(second.items[0]?.id).toBe(ids[0]);
  });

  it('bad pagination → 400', async () => {
    await expectProblem(await fetch(`${stack.baseUrl}/v1/videos?limit=0`), 400, /limit/);
    await expectProblem(await fetch(`${stack.baseUrl}/v1/videos?limit=abc`), 400, /limit/);
    await expectProblem(await fetch(`${stack.baseUrl}/v1/videos?cursor=bm9wZQ`), 400, /cursor/);
  });

  it('unknown route → 404 problem', async () => {
    await expectProblem(await fetch(`${stack.baseUrl}/v2/nothing`), 404, /no route/);
  });

  it('healthz answers', async () => {
    const res = await fetch(`${stack.baseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });
});

describe('output names', () => {
  it('names of built-in object properties are not outputs', async () => {
    const res = await post('', { headers: { 'content-type': 'video/mp4' }, body: videoBytes(1000) });
    const { id } = (await res.json()) as { id: string };
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const out = await fetch(`${stack.baseUrl}/v1/videos/${id}/outputs/${name}`);
      expect(out.status, name).toBeLessThan(500);
      expect(out.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  it('a long file name becomes a shortened title, not a refused upload', async () => {
    const form = new FormData();
    form.set('file', new Blob([videoBytes(100)], { type: 'video/mp4' }), `${'n'.repeat(300)}.mp4`);
    const res = await post('', { body: form });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { title: string }).title).toHaveLength(200);
  });
});
