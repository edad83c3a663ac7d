import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWriteConflict, JsonDocuments } from '../../core/json-documents.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

/**
 * S3 conditional writes against a real implementation (run by `npm run
 * test:parity` only: the embedded emulator, fauxqs, ignores If-Match and
 * If-None-Match on PutObject, so these guarantees cannot be checked there).
 * They are what keeps two workers, or two API processes, from overwriting
 * each other's status documents.
 */
let stack: TestStack;
let bucket: string;
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
  bucket = stack.resources.names.mediaBucket;
});
afterAll(async () => {
  await stack?.stop();
});

async function putRaw(key: string, body: string, conditions: { IfMatch?: string; IfNoneMatch?: string }) {
  return stack.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...conditions }));
}

async function rejection(promise: Promise<unknown>): Promise<{ name?: string; status?: number }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    expect(isWriteConflict(err)).toBe(true);
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('the conditional write was accepted');
}

describe('S3 conditional writes (parity)', () => {
  it('If-None-Match: * creates a key once and refuses to overwrite it with 412', async () => {
    await putRaw('parity/create.json', '"first"', { IfNoneMatch: '*' });
    expect(await rejection(putRaw('parity/create.json', '"second"', { IfNoneMatch: '*' }))).toEqual({
      name: 'PreconditionFailed',
      status: 412,
    });
  });

  it('If-Match accepts the current ETag and refuses a stale one with 412', async () => {
    const first = await putRaw('parity/match.json', '"v1"', {});
    const second = await putRaw('parity/match.json', '"v2"', { IfMatch: first.ETag! });
    expect(second.ETag).not.toBe(first.ETag);
    expect(await rejection(putRaw('parity/match.json', '"v3"', { IfMatch: first.ETag! }))).toMatchObject({ status: 412 });
  });

  it('If-Match on a key that does not exist is refused (404 NoSuchKey or 412), never a silent create', async () => {
    let error: { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
    try {
      await putRaw('parity/absent.json', '"x"', { IfMatch: '"0123456789abcdef0123456789abcdef"' });
    } catch (err) {
      error = err as typeof error;
    }
    expect(error?.$metadata?.httpStatusCode).toBeOneOf([404, 412]);
  });

  it('JsonDocuments.update loses no change when many writers race on one document', async () => {
    const docs = new JsonDocuments<{ n: number; by: string[] }>(stack.clients.s3, bucket, 'parity-race');
    await docs.create('counter', { n: 0, by: [] });
    const writers = 4;
    const perWriter = 3;
    // Each writer retries through conflicts on its own (update re-reads and re-applies, 5 tries);
    // a change that exhausted them is retried here so every increment lands exactly once.
    async function increment(writer: number, i: number): Promise<void> {
      for (;;) {
        try {
          await docs.update('counter', (doc) => ({ n: doc!.n + 1, by: [...doc!.by, `${writer}.${i}`] }));
          return;
        } catch (err) {
          if (!isWriteConflict(err)) throw err;
        }
      }
    }
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        for (let i = 0; i < perWriter; i++) await increment(writer, i);
      }),
    );
    const final = await docs.get('counter');
    expect(final!.n).toBe(writers * perWriter);
    expect(new Set(final!.by).size).toBe(writers * perWriter);
  });
});
