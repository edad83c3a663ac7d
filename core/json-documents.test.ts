import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ConditionalS3 } from '../test/support/conditional-s3.ts';
import { JsonDocuments } from './json-documents.ts';

interface Channel {
  session: string;
}

describe('JsonDocuments.update', () => {
  it('two writers creating the same document: the second sees the first one’s and can decide to change nothing', async () => {
    const s3 = new ConditionalS3();
    const docs = new JsonDocuments<Channel>(s3 as unknown as S3Client, 'media', 'channels');
    // Another API process starts a session between our read (none) and our create.
    s3.beforePut = () => s3.objects.set('channels/c1.json', { body: JSON.stringify({ session: 'theirs' }), etag: '"other"' });
    const start = (current: Channel | undefined) => (current ? undefined : { session: 'ours' });
    expect(await docs.update('c1', start)).toEqual({ doc: { session: 'theirs' }, changed: false });
    expect(JSON.parse(s3.objects.get('channels/c1.json')!.body)).toEqual({ session: 'theirs' });
  });

  it('re-applies a change on top of a concurrent write instead of overwriting it', async () => {
    const s3 = new ConditionalS3();
    const docs = new JsonDocuments<{ n: number }>(s3 as unknown as S3Client, 'media', 'webhooks');
    await docs.create('w1', { n: 1 });
    s3.beforePut = () => s3.objects.set('webhooks/w1.json', { body: JSON.stringify({ n: 10 }), etag: '"other"' });
    expect(await docs.update('w1', (doc) => doc && { n: doc.n + 1 })).toEqual({ doc: { n: 11 }, changed: true });
    await expect(docs.create('w1', { n: 0 })).rejects.toMatchObject({ name: 'PreconditionFailed' });
  });
});
