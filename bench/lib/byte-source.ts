import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/**
 * A stream of `total` bytes made on the fly from one random 1 MiB chunk, so a
 * 1 GiB upload never holds more than that chunk (plus stream buffers).
 */
export function generatedBytes(total: number, { chunkBytes = MiB }: { chunkBytes?: number } = {}): Readable {
  const chunk = randomBytes(chunkBytes);
  function* chunks(): Generator<Buffer> {
    for (let sent = 0; sent < total; sent += chunk.length) {
      yield total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
