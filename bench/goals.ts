import { END_TO_END_GOAL } from './end-to-end.ts';
import { TIME_TO_PLAYABLE_GOAL_SECONDS } from './time-to-watch.ts';
import type { BenchResults } from './report.ts';
import { describeSpread } from './lib/spread.ts';

/** One goal of issue 6, the value this run measured for it, and whether it was met (undefined: not measured). */
export interface GoalCheck {
  goal: string;
  target: string;
  measured: string;
  pass: boolean | undefined;
}

/** Goals of issues 6 and 12 with a number attached. */
export const GOALS = {
  /** Pipeline wall time at most this many times the raw ffmpeg command's. */
  transcodeOverhead: 1.1,
  /** API upload throughput at least this share of a direct lib-storage upload. */
  ingestThroughput: 0.8,
  /** API peak RSS growth during an upload below this, bytes, for the small and the large upload alike. */
  ingestMemoryBytes: 100 * 1024 * 1024,
  /** Median SendMessage → worker has the job, idle worker, ms. */
  dispatchP50Ms: 100,
  /** Issue 12: `npm start` 202 → ready at most this many times the hand-written one-pass command, median of the paired ratios. */
  endToEnd: END_TO_END_GOAL,
  /** Issue 12: a burst with the supervisor scaling 1 → 2 workers keeps at least this share of two workers' jobs/min. */
  autoscaledThroughput: 0.9,
  /** Issue 11: the ffmpeg pass with HLS + storyboard at most this many times the pass without, median of paired CPU ratios. */
  hlsOverhead: 1.05,
  /** Issue 21: 202 → `video.playable` at most this many seconds, median, for a 1080p30 source of any length. */
  timeToPlayableSeconds: TIME_TO_PLAYABLE_GOAL_SECONDS,
} as const;

/** Checks every goal against what the run measured; a section that did not run leaves its goal unmeasured. */
export function checkGoals(r: Pick<BenchResults, 'e2e' | 'transcode' | 'ingest' | 'dispatch' | 'scaling' | 'ttw'>): GoalCheck[] {
  const checks: GoalCheck[] = [];
  const w = r.ttw;
  checks.push({
    goal: 'Time to watch (issue 21): `npm start` 202 → `video.playable`, 1080p30, one worker, every source length measured',
    target: `median ≤ ${GOALS.timeToPlayableSeconds} s for each length`,
    measured: w
      ? w.rows
          .map(
            (row) =>
              `${row.sourceSeconds} s: ${row.playable.median.toFixed(2)} s (${row.playable.min.toFixed(2)}–${row.playable.max.toFixed(2)})`,
          )
          .join('; ')
      : 'not measured',
    pass: w ? w.rows.every((row) => row.playable.median <= GOALS.timeToPlayableSeconds) : undefined,
  });
  const e = r.e2e;
  checks.push({
    goal: `End to end (issue 12): \`npm start\` 202 → ready vs a hand-written one-pass ffmpeg, ${e ? `${e.clip.seconds} s` : '20 s'} 1080p clip, paired runs`,
    target: `median ≤ ${GOALS.endToEnd.toFixed(2)}×`,
    measured: e
      ? `${e.ratio.median.toFixed(3)}× (${e.ratio.min.toFixed(3)}–${e.ratio.max.toFixed(3)}, n=${e.ratio.n}); CPU ${e.cpuRatio.median.toFixed(3)}×`
      : 'not measured',
    pass: e ? e.ratio.median <= GOALS.endToEnd : undefined,
  });
  const t12 = r.scaling?.throughput;
  checks.push({
    goal: `Burst (issue 12): ${t12 ? t12.one.jobs : 30} short clips, supervisor scaling 1 → 2 workers vs 2 workers from the start`,
    target: `median ≥ ${GOALS.autoscaledThroughput.toFixed(2)}× jobs/min over paired bursts, and 2 workers ≥ 1`,
    measured: t12
      ? `${describeSpread(t12.autoscaledToTwo, 3)}; 2 workers ${t12.twoToOne.toFixed(2)}× 1 worker (${t12.one.jobsPerMinute.toFixed(1)} jobs/min)`
      : 'not measured',
    pass: t12 ? t12.autoscaledToTwo.median >= GOALS.autoscaledThroughput && t12.twoToOne >= 1 : undefined,
  });
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
  const h = r.transcode?.hls;
  checks.push({
    goal: 'HLS + storyboard: the one ffmpeg pass with them vs without (paired runs, median)',
    // CPU: the work HLS adds. Wall time on this shared machine swings by several times between identical runs.
    target: `≤ ${GOALS.hlsOverhead.toFixed(2)}× (CPU)`,
    measured: h ? `${h.cpuRatio.median.toFixed(3)}× CPU (${h.wallRatio.median.toFixed(3)}× wall)` : 'not measured',
    pass: h ? h.cpuRatio.median <= GOALS.hlsOverhead : undefined,
  });
  return checks;
}
