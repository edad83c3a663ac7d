import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { JsonDocuments } from './json-documents.ts';

/** An in-memory S3 stand-in that enforces If-Match / If-None-Match as S3 does (the emulator ignores them). */
class ConditionalS3 {
  objects = new Map<string, { body: string; etag: string }>();
  private version = 0;
  /** Runs once before the next conditional put: a concurrent writer slipping in. */
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
      this.objects.set(Key!, { body: String(Body), etag: `"v${++this.version}"` });
      return {};
    }
    throw new Error('unexpected command');
  }
}

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
