import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { stderrTail } from '../../workers/transcode/ffmpeg/stderr-tail.ts';
import { clipArgv, type ClipOptions } from '../../testkit/clip.ts';

const execFileAsync = promisify(execFile);

/** First line of `ffmpeg -version`, e.g. `ffmpeg version 5.1.9-0+deb12u1 Copyright …` → `5.1.9-0+deb12u1`. */
export async function ffmpegVersion(binary: string): Promise<string> {
  const { stdout } = await execFileAsync(binary, ['-version']);
  const first = stdout.split('\n', 1)[0] ?? '';
  return /version\s+(\S+)/.exec(first)?.[1] ?? first.trim();
}

/**
 * Runs ffmpeg (under `nice -n` like fluent-ffmpeg does, when `niceness` > 0)
 * and resolves when it exited 0; rejects with the tail of stderr otherwise.
 * Like every child, it is killed if this process exits first (bench/lib/cleanup.ts).
 */
export function runFfmpegArgv(binary: string, argv: readonly string[], { niceness = 0 }: { niceness?: number } = {}): Promise<void> {
  const [command, args] = niceness > 0 ? ['nice', ['-n', String(niceness), binary, ...argv]] : [binary, [...argv]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr = (stderr + text).slice(-8192);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg exited with ${signal ?? code}: ${stderrTail(stderr)}\n  argv: ${argv.join(' ')}`));
    });
  });
}

/** A synthetic source (testkit/clip.ts): testsrc2 and a 440 Hz sine, H.264 High + AAC in MP4. */
export function generateClip(binary: string, file: string, opts: ClipOptions): Promise<void> {
  return runFfmpegArgv(binary, clipArgv(file, opts));
}
