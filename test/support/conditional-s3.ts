import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * An in-memory S3 stand-in that enforces If-Match / If-None-Match the way S3
 * does, for unit tests of the conditional-write loops (the emulator ignores
 * these headers, so this is where the rule is checked).
 */
export class ConditionalS3 {
  objects = new Map<string, { body: string; etag: string }>();
  private version = 0;
  /** Runs once before the next put: a concurrent writer slipping in. */
  beforePut: (() => void) | undefined;

  asClient(): S3Client {
    return this as unknown as S3Client;
  }

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
