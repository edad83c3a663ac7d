import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PRIVATE_OUTPUT_CACHE_CONTROL } from '../../core/cache-control.ts';
import { TransientJobError } from '../../core/errors.ts';
import { describeS3Failure, OUTPUT_PART_BYTES } from '../../core/s3-multipart.ts';
import { outputKey } from '../../core/status-store.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.jpg': 'image/jpeg',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.vtt': 'text/vtt',
  '.json': 'application/json',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Uploads every file under `outDir` (however many the command wrote: renditions, thumbnail, and any
 * playlists or segments), `concurrency` at a time; a file's key is derived from the video id and its path under
 * `outDir`, so a retry overwrites. Through lib-storage's multipart Upload: one PutObject stops at 5 GB,
 * and a long 720p rendition can pass that.
 */
export async function uploadOutputs({
  s3,
  bucket,
  outDir,
  videoId,
  signal,
  concurrency = 8,
  skip,
}: {
  s3: S3Client;
  bucket: string;
  outDir: string;
  videoId: string;
  signal: AbortSignal;
  /** Files uploaded at once (default 8). */
  concurrency?: number;
  /** Paths below `outDir` already stored (the HLS segments published while ffmpeg ran): not uploaded again. */
  skip?: ReadonlySet<string>;
}): Promise<void> {
  const files = (await readdir(outDir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(outDir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .filter((file) => !skip?.has(file));
  // A long video has thousands of HLS segments: upload a bounded number at a time, opening each file only
  // when its turn comes (one stream per file at once would exhaust file descriptors and sockets).
  const active = new Set<Upload>();
  const abortAll = () => active.forEach((u) => void u.abort().catch(() => undefined));
  signal.addEventListener('abort', abortAll, { once: true });
  let next = 0;
  const uploadNext = async (): Promise<void> => {
    while (next < files.length) {
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      const file = files[next++]!;
      const upload = new Upload({
        client: s3,
        params: {
          Bucket: bucket,
          Key: outputKey(videoId, file),
          Body: createReadStream(path.join(outDir, file)),
          ContentType: contentTypeOf(file),
          CacheControl: PRIVATE_OUTPUT_CACHE_CONTROL,
        },
        partSize: OUTPUT_PART_BYTES,
        queueSize: 2,
        leavePartsOnError: false,
      });
      active.add(upload);
      try {
        await upload.done();
      } finally {
        active.delete(upload);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, uploadNext));
  } catch (err) {
    abortAll();
    throw new TransientJobError(`could not upload the outputs: ${describeS3Failure(err)}`, { cause: err });
  } finally {
    signal.removeEventListener('abort', abortAll);
  }
}
