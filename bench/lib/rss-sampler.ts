import { readMemory, resetPeakRss } from './proc-stats.ts';

export interface RssSummary {
  /** VmRSS when sampling started, bytes. */
  startRss: number;
  /** Highest VmRSS seen: the larger of the samples' maximum and VmHWM (when it could be reset at start). */
  peakRss: number;
  samples: number;
  /** True when VmHWM was reset at start, so `peakRss` includes peaks between samples. */
  usedHwm: boolean;
}

/**
 * Samples a process's VmRSS every `intervalMs` (each sample scheduled after
 * the previous one, no setInterval), and resets VmHWM at start so the
 * kernel's own peak catches what falls between two samples.
 */
export class RssSampler {
  private readonly pid: number;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private startRss = 0;
  private maxRss = 0;
  private samples = 0;
  private usedHwm = false;

  constructor(pid: number, { intervalMs = 50 }: { intervalMs?: number } = {}) {
    this.pid = pid;
    this.intervalMs = intervalMs;
  }

  start(): this {
    this.usedHwm = resetPeakRss(this.pid);
    this.startRss = readMemory(this.pid).rss;
    this.maxRss = this.startRss;
    this.schedule();
    return this;
  }

  stop(): RssSummary {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.sample();
    const hwm = this.usedHwm ? this.readHwm() : 0;
    return { startRss: this.startRss, peakRss: Math.max(this.maxRss, hwm), samples: this.samples, usedHwm: this.usedHwm };
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.sample();
      this.schedule();
    }, this.intervalMs);
  }

  private sample(): void {
    try {
      this.maxRss = Math.max(this.maxRss, readMemory(this.pid).rss);
      this.samples++;
    } catch {
      // The process is gone; the summary keeps what was seen.
    }
  }

  private readHwm(): number {
    try {
      return readMemory(this.pid).hwm;
    } catch {
      return 0;
    }
  }
}
