import ffmpeg from 'fluent-ffmpeg';
import { PermanentJobError, TransientJobError } from '../../../core/errors.ts';
import { jobFailure, type JobFailure } from '../../../core/job-errors.ts';
import { commandArgv, type FfmpegCommand } from './command.ts';
import { stderrTail } from './stderr-tail.ts';

export interface RunOptions {
  ffmpegPath: string;
  /** Receives 0–100, clamped (ffmpeg sometimes reports nonsense). */
  onProgress?: (percent: number) => void;
  /** Called on every progress line, even when no percentage can be computed (for stall detection). */
  onAnyProgress?: () => void;
  /** Source duration, seconds: the 100 % mark. */
  durationSeconds?: number;
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
 * ffmpeg stopped on the input itself: the same bytes will fail the same way, so it is not
 * retried. `code` and the message are for users; `stderr` (ffmpeg's own lines) is for the logs.
 */
export class FfmpegInputError extends PermanentJobError {
  override name = 'FfmpegInputError';
  readonly stderr: string;
  readonly argv: string[];
  constructor({ code, message }: JobFailure, stderr: string, argv: string[], options?: { cause?: unknown }) {
    super(code, message, options);
    this.stderr = stderr;
    this.argv = argv;
  }
}

/** Failures of the machine, not of the file: retried. */
const ENVIRONMENT_FAILURE =
  /No space left on device|Cannot allocate memory|Out of memory|Resource temporarily unavailable|Too many open files|Input\/output error|killed with signal|Broken pipe/i;

/**
 * Sorts a failed ffmpeg run: transient (the machine: signals, a full disk, memory) or permanent
 * (the input: no decoder, corrupt or truncated data, nothing decodable). ffmpeg reads a local
 * file with a fixed command, so whatever is not the machine's fault happens again on a retry.
 */
export function classifyFfmpegFailure(message: string, stderr: string, argv: string[], cause?: unknown): FfmpegError | FfmpegInputError {
  const tail = stderrTail(stderr);
  if (ENVIRONMENT_FAILURE.test(`${message}\n${stderr}`)) return new FfmpegError(`ffmpeg failed: ${tail || message}`, tail, argv, { cause });
  const notAllowed = /Codec \((\w+)\) not on whitelist/.exec(stderr);
  if (notAllowed) {
    return new FfmpegInputError(jobFailure('CODEC_REFUSED', notAllowed[1]!), tail, argv, { cause });
  }
  const noDecoder = /Decoder \(codec (\w+)\) not found|Unsupported codec with id \d+ for input stream/.exec(stderr);
  if (noDecoder) {
    return new FfmpegInputError(jobFailure('NO_DECODER', noDecoder[1] ?? 'in a codec'), tail, argv, { cause });
  }
  if (/File ended prematurely|Truncat|partial file|EOF inside/i.test(stderr) && /Conversion failed|Error while decoding/.test(stderr)) {
    return new FfmpegInputError(jobFailure('CUT_OFF_WHILE_DECODING'), tail, argv, { cause });
  }
  return new FfmpegInputError(jobFailure('UNDECODABLE'), tail, argv, { cause });
}

/**
 * Runs one ffmpeg process for the whole command through fluent-ffmpeg. Knows
 * nothing of S3 or queues: it gets paths, a progress callback and a signal.
 */
export function runFfmpeg(
  cmd: FfmpegCommand,
  { ffmpegPath, onProgress, onAnyProgress, durationSeconds, signal, niceness = 0 }: RunOptions,
): Promise<void> {
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

    // Progress is read from ffmpeg's own stderr lines (`time=00:00:12.34`) against the duration we probed.
    // A 'progress' listener would make fluent-ffmpeg run its own ffprobe on the upload, without our whitelists.
    let lastPercent = -1;
    command.on('stderr', (line: string) => {
      const seconds = progressSeconds(line);
      if (seconds === undefined) return;
      onAnyProgress?.();
      if (!onProgress || !durationSeconds || durationSeconds <= 0) return;
      const percent = clampPercent((seconds / durationSeconds) * 100);
      if (percent !== lastPercent) {
        lastPercent = percent;
        onProgress(percent);
      }
    });

    const onAbort = () => command.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => signal?.removeEventListener('abort', onAbort);
    // kill() before the process exists does nothing: an abort in that window is applied on start.
    command.on('start', () => {
      if (signal?.aborted) command.kill('SIGKILL');
    });

    command.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
      cleanup();
      if (signal?.aborted) {
        reject(new FfmpegError('ffmpeg was stopped', stderrTail(stderr ?? ''), argv, { cause: err }));
        return;
      }
      reject(classifyFfmpegFailure(err.message, stderr ?? '', argv, err));
    });
    command.on('end', () => {
      cleanup();
      resolve();
    });
    command.run();
  });
}

/** The `time=` of an ffmpeg progress line, in seconds; undefined for other lines. */
export function progressSeconds(line: string): number | undefined {
  const match = /time=\s*(-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(line);
  if (!match) return undefined;
  const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4]);
  return match[1] ? 0 : seconds;
}

export function clampPercent(raw: number): number {
  if (!Number.isFinite(raw)) return 0;
  return Math.min(100, Math.max(0, Math.round(raw * 10) / 10));
}
