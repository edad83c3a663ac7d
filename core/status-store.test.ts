import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { StatusStore } from './status-store.ts';
import type { VideoStatus } from './video-status.ts';

/**
 * The optimistic-concurrency loop, against an in-memory S3 stand-in that
 * enforces If-Match / If-None-Match the way S3 does (the emulator ignores
 * these headers, so this unit test is where the rule is checked).
 */
class ConditionalS3 {
  objects = new Map<string, { body: string; etag: string }>();
  private version = 0;
  /** Called before each conditional put: lets a test slip in a concurrent write. */
  beforePut: (() => void) | undefined;

  async send(command: unknown): Promise<unknown> {
    if (command instanceof GetObjectCommand) {
      const obj = this.objects.get(command.input.Key!);
      if (!obj) throw Object.assign(new Error('no such key'), { name: 'NoSuchKey' });
      return { ETag: obj.etag, Body: { transformToString: async () => obj.body } };
    }
    if (command instanceof PutObjectCommand) {
      const { Key, Body, IfMatch, IfNoneMatch } = command.input;
      const hook = this.beforePut;
      this.beforePut = undefined;
      hook?.();
      const existing = this.objects.get(Key!);
      if ((IfNoneMatch === '*' && existing) || (IfMatch && existing?.etag !== IfMatch)) {
        throw Object.assign(new Error('precondition failed'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
      }
      this.write(Key!, String(Body));
      return {};
    }
    throw new Error('unexpected command');
  }

  write(key: string, body: string): void {
    this.objects.set(key, { body, etag: `"v${++this.version}"` });
  }
}

const doc = (over: Partial<VideoStatus> = {}): VideoStatus => ({
  id: 'V1',
  status: 'queued',
  priority: 'normal',
  source: { key: 'uploads/V1', bytes: 1, contentType: 'video/mp4' },
  outputs: {},
  skipped: [],
  attempts: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  queuedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

describe('StatusStore.update', () => {
  it('re-reads and re-applies the change when another writer got in first', async () => {
    const s3 = new ConditionalS3();
    const store = new StatusStore(s3 as unknown as S3Client, 'media');
    await store.put(doc());
    // Another process sets a title between our read and our write.
    s3.beforePut = () => s3.write('status/V1.json', JSON.stringify(doc({ title: 'from elsewhere' })));
    const result = await store.update('V1', (d) => ({ ...d, attempts: d.attempts + 1 }));
    expect(result).toMatchObject({ attempts: 1, title: 'from elsewhere' });
    expect(JSON.parse(s3.objects.get('status/V1.json')!.body)).toMatchObject({ attempts: 1, title: 'from elsewhere' });
  });

  it('create refuses to overwrite an existing document', async () => {
    const s3 = new ConditionalS3();
    const store = new StatusStore(s3 as unknown as S3Client, 'media');
    await store.create(doc());
    await expect(store.create(doc({ title: 'again' }))).rejects.toMatchObject({ name: 'PreconditionFailed' });
  });

  it('gives up after repeated conflicts', async () => {
    const s3 = new ConditionalS3();
    const store = new StatusStore(s3 as unknown as S3Client, 'media');
    await store.put(doc());
    const original = s3.send.bind(s3);
    s3.send = async (command: unknown) => {
      if (command instanceof PutObjectCommand) s3.write('status/V1.json', JSON.stringify(doc()));
      return original(command);
    };
    await expect(store.update('V1', (d) => d)).rejects.toMatchObject({ name: 'PreconditionFailed' });
  });
});
