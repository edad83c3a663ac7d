import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ConditionalS3 } from '../test/support/conditional-s3.ts';
import { StatusStore, UnknownVideoError } from './status-store.ts';
import type { VideoStatus } from './video-status.ts';
import { mayTake, nextStates, VIDEO_STEPS, type VideoStep } from './video-transitions.ts';

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

describe('StatusStore.transition', () => {
  const STATES = ['queued', 'processing', 'ready', 'failed'] as const;
  const STEPS = Object.keys(VIDEO_STEPS) as VideoStep[];
  const illegal = STEPS.flatMap((step) => STATES.filter((from) => !mayTake(step, from)).map((from) => [step, from] as const));
  const legal = STEPS.flatMap((step) => STATES.filter((from) => mayTake(step, from)).map((from) => [step, from] as const));

  it('the table: ready is final; failed only goes back to queued, and only by a redrive', () => {
    expect(nextStates('ready')).toEqual([]);
    expect(nextStates('failed')).toEqual(['queued']);
    expect(STEPS.filter((step) => mayTake(step, 'failed'))).toEqual(['redrive']);
    expect(new Set(nextStates('queued'))).toEqual(new Set(['processing', 'queued', 'ready', 'failed']));
    expect(new Set(nextStates('processing'))).toEqual(new Set(['processing', 'queued', 'ready', 'failed']));
    expect(illegal).toHaveLength(4 * STEPS.length - legal.length);
    expect(illegal.length).toBeGreaterThan(0);
  });

  it.each(illegal)('refuses %s from %s and writes nothing', async (step, from) => {
    const s3 = new ConditionalS3();
    const store = new StatusStore(s3 as unknown as S3Client, 'media');
    await store.put(doc({ status: from, attempts: 1 }));
    const before = s3.objects.get('status/V1.json')!;
    expect(await store.transition('V1', step, () => ({ attempts: 99, progress: 5 }))).toBeUndefined();
    expect(s3.objects.get('status/V1.json')).toEqual(before);
  });

  it.each(legal)('takes %s from %s', async (step, from) => {
    const s3 = new ConditionalS3();
    const store = new StatusStore(s3 as unknown as S3Client, 'media');
    await store.put(doc({ status: from, attempts: 1 }));
    const after = await store.transition('V1', step, () => ({ attempts: 2 }));
    expect(after).toMatchObject({ status: VIDEO_STEPS[step].to, attempts: 2 });
    expect(JSON.parse(s3.objects.get('status/V1.json')!.body)).toMatchObject({ status: VIDEO_STEPS[step].to, attempts: 2 });
  });

  it('a video finished by another writer between the read and the write is not reopened', async () => {
    const s3 = new ConditionalS3();
    const store = new StatusStore(s3 as unknown as S3Client, 'media');
    await store.put(doc({ status: 'processing', attempts: 1 }));
    s3.beforePut = () => s3.write('status/V1.json', JSON.stringify(doc({ status: 'ready', attempts: 1 })));
    expect(await store.transition('V1', 'requeue', () => ({ progress: undefined }))).toBeUndefined();
    expect(JSON.parse(s3.objects.get('status/V1.json')!.body)).toMatchObject({ status: 'ready' });
  });

  it('a missing document is an UnknownVideoError, not a generic error', async () => {
    const store = new StatusStore(new ConditionalS3() as unknown as S3Client, 'media');
    await expect(store.transition('V404', 'fail')).rejects.toBeInstanceOf(UnknownVideoError);
  });

  it('update() cannot change the status: every status change is a named step', async () => {
    const s3 = new ConditionalS3();
    const store = new StatusStore(s3 as unknown as S3Client, 'media');
    await store.put(doc({ status: 'ready' }));
    await expect(store.update('V1', (d) => ({ ...d, status: 'queued' }))).rejects.toThrow(/use transition/);
  });
});
