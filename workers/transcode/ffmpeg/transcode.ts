import ffmpeg from 'fluent-ffmpeg';
import { TransientJobError } from '../../../core/errors.ts';
import { commandArgv, type FfmpegCommand } from './command.ts';
import { stderrTail } from './probe.ts';

export interface RunOptions {
  ffmpegPath: string;
  /** Receives 0–100, clamped (ffmpeg sometimes reports nonsense). */
  onProgress?: (percent: number) => void;
  /** Aborting kills ffmpeg (SIGKILL) and rejects. */
  signal?: AbortSignal;
  /** Scheduling priority of the child, 0 (normal) to 19 (lowest). */
  niceness?: number;
}

/** ffmpeg exited non-zero or was killed; carries the tail of stderr and the command line. */
export class FfmpegError extends TransientJobError {
  override name = 'FfmpegError';
  readonly stderr: string;
  readonly argv: string[];
  constructor(message: string, stderr: string, argv: string[], options?: { cause?: unknown }) {
    super(message, options);
    this.stderr = stderr;
    this.argv = argv;
  }
}

/**
 * Runs one ffmpeg process for the whole command through fluent-ffmpeg. Knows
 * nothing of S3 or queues: it gets paths, a progress callback and a signal.
 */
export function runFfmpeg(cmd: FfmpegCommand, { ffmpegPath, onProgress, signal, niceness = 0 }: RunOptions): Promise<void> {
  const argv = commandArgv(cmd);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new FfmpegError('ffmpeg not started: aborted', '', argv));
      return;
    }
    const command = ffmpeg({ niceness }).setFfmpegPath(ffmpegPath);
    command.input(cmd.input).inputOptions(cmd.inputOptions);
    command.complexFilter(cmd.complexFilter);
    for (const output of cmd.outputs) command.output(output.path).outputOptions(output.options);

    let lastPercent = -1;
    command.on('progress', (progress: { percent?: number }) => {
      const raw = Number(progress.percent);
      if (!onProgress || !Number.isFinite(raw)) return;
      const percent = Math.min(100, Math.max(0, Math.round(raw * 10) / 10));
      if (percent !== lastPercent) {
        lastPercent = percent;
        onProgress(percent);
      }
    });

    const onAbort = () => command.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => signal?.removeEventListener('abort', onAbort);

    command.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
      cleanup();
      const tail = stderrTail(stderr ?? '');
      const why = signal?.aborted ? 'ffmpeg was stopped' : `ffmpeg failed: ${tail || err.message}`;
      reject(new FfmpegError(why, tail, argv, { cause: err }));
    });
    command.on('end', () => {
      cleanup();
      resolve();
    });
    command.run();
  });
}
