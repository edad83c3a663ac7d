/**
 * Kills a transcode that is stuck: no progress for `stallMs`, or running past
 * `limitMs` in all. `signal` aborts on either, or when `parent` aborts;
 * `reason` then says which. `stop()` clears the timers.
 */
export class FfmpegWatchdog {
  private readonly controller = new AbortController();
  private readonly stallMs: number;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly limitTimer: NodeJS.Timeout;
  private readonly onParentAbort = () => this.fire(undefined);
  private readonly parent: AbortSignal;
  reason: string | undefined;

  constructor({ stallMs, limitMs, parent }: { stallMs: number; limitMs: number; parent: AbortSignal }) {
    this.stallMs = stallMs;
    this.parent = parent;
    this.limitTimer = setTimeout(() => this.fire(`ffmpeg exceeded the time limit of ${Math.round(limitMs / 1000)}s`), limitMs);
    this.progress();
    // An already-aborted parent never fires 'abort' again: follow it now.
    if (parent.aborted) this.fire(undefined);
    else parent.addEventListener('abort', this.onParentAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Call on every progress report from ffmpeg. */
  progress(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => this.fire(`ffmpeg made no progress for ${Math.round(this.stallMs / 1000)}s`), this.stallMs);
  }

  stop(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    clearTimeout(this.limitTimer);
    this.parent.removeEventListener('abort', this.onParentAbort);
  }

  private fire(reason: string | undefined): void {
    if (this.controller.signal.aborted) return;
    this.reason = reason;
    this.stop();
    this.controller.abort();
  }
}

/** SQS cannot keep a message invisible for more than 12 hours after it was received: stay under it. */
export const MAX_TRANSCODE_MS = 11.5 * 3600 * 1000;

/** Wall-clock limit for one transcode: `factor` × the source duration, never below `minMs`, never past SQS's 12 h. */
export function transcodeTimeLimitMs(durationSeconds: number, { factor, minMs }: { factor: number; minMs: number }): number {
  return Math.min(MAX_TRANSCODE_MS, Math.max(minMs, Math.ceil(durationSeconds * factor * 1000)));
}
