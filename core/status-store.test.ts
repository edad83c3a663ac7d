import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ConditionalS3 } from '../test/support/conditional-s3.ts';
import { StatusStore } from './status-store.ts';
import type { VideoStatus } from './video-status.ts';

/** The optimistic-concurrency loop of status writes, against an S3 stand-in that enforces conditional writes. */
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
