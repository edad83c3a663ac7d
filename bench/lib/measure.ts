import { cpuSecondsWithChildren, readSystemCpu, type SystemCpu } from './proc-stats.ts';

export interface Timing {
  /** Wall-clock time, seconds. */
  wallSeconds: number;
  /** CPU time of this process and every child it reaped meanwhile (ffmpeg, ffprobe), seconds. */
  cpuSeconds: number;
  /**
   * Cores kept busy meanwhile by everything but the measured work (other
   * tenants of the shared machine, plus hypervisor steal): how noisy the
   * measurement was. 0 on a quiet machine; up to the core count.
   */
  otherLoadCores: number;
}

/** Machine-wide CPU use over a time window, to tell the measured work from the rest of the machine. */
export class LoadWindow {
  private readonly start: SystemCpu = readSystemCpu();
  private readonly startedAt = performance.now();

  /** Cores busy with anything but `ownCpuSeconds` since the window opened. */
  otherLoadCores(ownCpuSeconds: number): number {
    const end = readSystemCpu();
    const seconds = (performance.now() - this.startedAt) / 1000;
    const machine = end.busySeconds - this.start.busySeconds + (end.stealSeconds - this.start.stealSeconds);
    return round(Math.max(0, (machine - ownCpuSeconds) / seconds));
  }
}

/** Runs `step` and measures its wall and CPU time, and how busy the rest of the machine was meanwhile. */
export async function measure<T>(step: () => Promise<T>): Promise<{ result: T; timing: Timing }> {
  const cpuBefore = cpuSecondsWithChildren();
  const load = new LoadWindow();
  const started = performance.now();
  const result = await step();
  const wallSeconds = (performance.now() - started) / 1000;
  const cpuSeconds = round(cpuSecondsWithChildren() - cpuBefore);
  return { result, timing: { wallSeconds, cpuSeconds, otherLoadCores: load.otherLoadCores(cpuSeconds) } };
}

/** Rounds to hundredths: CPU counters tick every 10 ms, more digits would be noise. */
export function round(value: number): number {
  return Math.round(value * 100) / 100;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new Error('mean of nothing');
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export function meanTiming(timings: readonly Timing[]): Timing {
  return {
    wallSeconds: mean(timings.map((t) => t.wallSeconds)),
    cpuSeconds: round(mean(timings.map((t) => t.cpuSeconds))),
    otherLoadCores: round(mean(timings.map((t) => t.otherLoadCores))),
  };
}

/** Steps run one after another: times add up, the load is averaged over the time. */
export function sumTimings(timings: readonly Timing[]): Timing {
  const wallSeconds = timings.reduce((a, t) => a + t.wallSeconds, 0);
  return {
    wallSeconds,
    cpuSeconds: round(timings.reduce((a, t) => a + t.cpuSeconds, 0)),
    otherLoadCores: round(timings.reduce((a, t) => a + t.otherLoadCores * t.wallSeconds, 0) / wallSeconds),
  };
}
