import type { BenchResults } from './report.ts';

/** One goal of issue 6, the value this run measured for it, and whether it was met (undefined: not measured). */
export interface GoalCheck {
  goal: string;
  target: string;
  measured: string;
  pass: boolean | undefined;
}

/** Goals of issue 6 with a number attached. */
export const GOALS = {
  /** Pipeline wall time at most this many times the raw ffmpeg command's. */
  transcodeOverhead: 1.1,
  /** API upload throughput at least this share of a direct lib-storage upload. */
  ingestThroughput: 0.8,
  /** API peak RSS growth during an upload below this, bytes, for the small and the large upload alike. */
  ingestMemoryBytes: 100 * 1024 * 1024,
  /** Median SendMessage → worker has the job, idle worker, ms. */
  dispatchP50Ms: 100,
} as const;

/** Checks every goal against what the run measured; a section that did not run leaves its goal unmeasured. */
export function checkGoals(r: Pick<BenchResults, 'transcode' | 'ingest' | 'dispatch'>): GoalCheck[] {
  const checks: GoalCheck[] = [];
  const t = r.transcode?.ratios.pipelineToRaw;
  checks.push({
    goal: 'Transcode overhead: whole pipeline (202 → video.ready) vs the raw ffmpeg command',
    target: `≤ ${GOALS.transcodeOverhead.toFixed(2)}× raw (wall)`,
    measured: t ? `${t.wall.toFixed(2)}× wall (${t.cpu.toFixed(2)}× CPU)` : 'not measured',
    pass: t ? t.wall <= GOALS.transcodeOverhead : undefined,
  });
  const i = r.ingest;
  checks.push({
    goal: 'Ingest throughput: POST /v1/videos vs a direct lib-storage upload',
    target: `≥ ${GOALS.ingestThroughput.toFixed(2)}× direct`,
    measured: i ? `${i.apiToDirectThroughput.toFixed(2)}×` : 'not measured',
    pass: i ? i.apiToDirectThroughput >= GOALS.ingestThroughput : undefined,
  });
  const mib = (bytes: number) => (bytes / 1024 ** 2).toFixed(1);
  const size = (bytes: number) => (bytes >= 1024 ** 3 ? `${bytes / 1024 ** 3} GiB` : `${bytes / 1024 ** 2} MiB`);
  checks.push({
    goal: 'Ingest memory: API peak RSS growth during an upload, small and large alike',
    target: `< ${mib(GOALS.ingestMemoryBytes)} MiB`,
    measured: i
      ? `${mib(i.api.small.peakGrowth)} MiB (${size(i.api.small.bytes)}), ${mib(i.api.big.peakGrowth)} MiB (${size(i.api.big.bytes)})`
      : 'not measured',
    pass: i ? Math.max(i.api.small.peakGrowth, i.api.big.peakGrowth) < GOALS.ingestMemoryBytes : undefined,
  });
  const d = r.dispatch?.idle;
  checks.push({
    goal: 'Dispatch latency: SendMessage → an idle worker has the job, median',
    target: `p50 < ${GOALS.dispatchP50Ms} ms`,
    measured: d ? `high ${d.high.dispatch.p50Ms.toFixed(1)} ms, low ${d.low.dispatch.p50Ms.toFixed(1)} ms` : 'not measured',
    pass: d ? Math.max(d.high.dispatch.p50Ms, d.low.dispatch.p50Ms) < GOALS.dispatchP50Ms : undefined,
  });
  return checks;
}
