import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A real, decodable clip of ~17 MB in 12 frames (lossless H.264 of noise, with
 * AAC audio): several S3 parts of 5 MiB, yet a transcode of a second or two.
 */
export async function largeClip(ffmpegPath: string, dir: string): Promise<Buffer> {
  const file = path.join(dir, 'noise.mp4');
  await promisify(execFile)(ffmpegPath, [
    ...[
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'nullsrc=s=1280x720:r=25,geq=random(1)*255:128:128',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440',
    ],
    ...['-t', '0.48', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', file],
  ]);
  return readFile(file);
}
