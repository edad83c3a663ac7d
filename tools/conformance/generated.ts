import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Files the shared corpus lacks, made with ffmpeg's test sources: nothing in it is long and detailed,
 * yet most real uploads are (its 6-minute file is black). `long-detailed-1080p30.mp4` is 80 s of
 * moving, noisy 1080p30 with a tone: its 720p rendition passes 11 MiB, the largest request body the
 * embedded emulator takes (#23 item 0: such videos failed on `npm start`).
 */
export const GENERATED = [
  {
    file: 'long-detailed-1080p30.mp4',
    expected: 'ready: 360p+720p; 720p output larger than 11 MiB',
    args: [
      ...[
        '-f',
        'lavfi',
        '-i',
        'testsrc2=s=1920x1080:r=30,noise=alls=24:allf=t+u',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:sample_rate=48000',
      ],
      ...['-t', '80', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '23', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k'],
    ],
  },
] as const;

/** Writes the generated files and their `manifest.tsv` into `dir` (made by the caller). */
export async function writeGeneratedCorpus(ffmpegPath: string, dir: string): Promise<void> {
  for (const g of GENERATED) {
    await promisify(execFile)(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-y', ...g.args, path.join(dir, g.file)]);
  }
  const rows = GENERATED.map((g) => `${g.file}\t${g.expected}`);
  await writeFile(path.join(dir, 'manifest.tsv'), `filename\texpected\n${rows.join('\n')}\n`);
}
