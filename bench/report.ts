import type { DispatchLatencyResult } from './dispatch-latency.ts';
import { renderEndToEnd, type EndToEndResult } from './end-to-end.ts';
import { renderEventLatency, type EventLatencyResult } from './event-latency.ts';
import { renderFfmpegVariants, type FfmpegVariantsResult } from './ffmpeg-variants.ts';
import { renderQuality, type QualityResult } from './quality.ts';
import { GOALS, type GoalCheck } from './goals.ts';
import type { IngestMemoryResult, UploadRun } from './ingest-memory.ts';
import { renderLiveBench, type LiveBenchResult } from './live.ts';
import type { GitInfo, MachineInfo } from './lib/machine.ts';
import { fixed, markdownTable, mib, times } from './lib/markdown.ts';
import type { LatencyStats } from './lib/latency.ts';
import type { Timing } from './lib/measure.ts';
import { describeSpread } from './lib/spread.ts';
import type { PriorityResult } from './priority.ts';
import type { ScalingResult } from './scaling.ts';
import { renderTimeToWatch, type TimeToWatchResult } from './time-to-watch.ts';
import type { TranscodeOverheadResult } from './transcode-overhead.ts';

/** Everything one `npm run bench` measured; written as JSON to bench/results/. */
export interface BenchResults {
  schema: 1;
  startedAt: string;
  durationSeconds: number;
  mode: 'quick' | 'full';
  git: GitInfo;
  machine: MachineInfo & { loadAverageAtEnd: number };
  e2e?: EndToEndResult;
  variants?: FfmpegVariantsResult;
  quality?: QualityResult;
  transcode?: TranscodeOverheadResult;
  ingest?: IngestMemoryResult;
  dispatch?: DispatchLatencyResult;
  priority?: PriorityResult;
  scaling?: ScalingResult;
  events?: EventLatencyResult;
  live?: LiveBenchResult;
  /** Time to watch (#21): 202 → playable and → ready. */
  ttw?: TimeToWatchResult;
  /** The goals of issue 6, checked against the figures above. */
  goals: GoalCheck[];
}

/** API throughput at least this share of the direct one: the API adds little on top of the emulator. */
const EMULATOR_BOUND_RATIO = 0.8;
/**
 * From this share of one core the emulator counts as (nearly) saturated: its
 * event loop is one thread, and GC threads aside it cannot go much past 90%.
 */
const SATURATED_CPU_PERCENT = 75;
/** Other load above this many cores: the machine was busy, wall times are suspect. */
const NOISY_CORES = 0.5;

export function renderReport(r: BenchResults): string {
  const m = r.machine;
  return (
    [
      `# reelay bench — ${r.startedAt.slice(0, 10)}, commit ${r.git.commit}${r.git.dirty ? ' (work tree had changes)' : ''}, ${r.mode} run`,
      '',
      `${m.cores} cores (${m.cpuModel}), ${(m.memoryBytes / 1024 ** 3).toFixed(1)} GiB, Linux ${m.kernel}; Node ${m.node}; ` +
        `ffmpeg ${m.ffmpeg.version} (${m.ffmpeg.path}, from ${m.ffmpeg.origin}); ` +
        `load average ${m.loadAverageAtStart.toFixed(2)} at start, ${m.loadAverageAtEnd.toFixed(2)} at end; ${r.durationSeconds.toFixed(0)} s in all. ` +
        `"Other load" is how many cores the rest of the machine kept busy meanwhile: the noise.`,
      ...goalsSection(r),
      // Rendered by their own modules, which also run alone (`node bench/end-to-end.ts`, …).
      ...(r.e2e ? ['', renderEndToEnd(r.e2e).trimEnd()] : []),
      ...(r.variants ? ['', renderFfmpegVariants(r.variants).trimEnd()] : []),
      ...(r.quality ? ['', renderQuality(r.quality).trimEnd()] : []),
      ...(r.transcode ? transcodeSection(r.transcode) : []),
      ...(r.ingest ? ingestSection(r.ingest, m.cores) : []),
      ...(r.dispatch ? dispatchSection(r.dispatch, r.scaling) : []),
      ...(r.dispatch || r.scaling ? idleGapSection(r.dispatch, r.scaling) : []),
      ...(r.priority ? prioritySection(r.priority) : []),
      ...(r.scaling ? scalingSection(r.scaling, m.cores) : []),
      // Rendered by event-latency.ts itself, which also runs alone (`node bench/event-latency.ts`).
      ...(r.events ? ['', renderEventLatency(r.events).trimEnd()] : []),
      // Rendered by live.ts itself, which also runs alone (`node bench/live.ts`).
      ...(r.live ? ['', renderLiveBench(r.live).trimEnd()] : []),
      // Rendered by time-to-watch.ts itself, which also runs alone (`node bench/time-to-watch.ts`).
      ...(r.ttw ? ['', renderTimeToWatch(r.ttw).trimEnd()] : []),
    ].join('\n') + '\n'
  );
}

function goalsSection(r: BenchResults): string[] {
  const afterJobSlow = r.dispatch?.afterJob !== undefined && r.dispatch.afterJob.dispatch.p50Ms >= GOALS.dispatchP50Ms;
  const verdict = (pass: boolean | undefined) => (pass === undefined ? '—' : pass ? 'PASS' : '**MISS**');
  return [
    '',
    '## Goals (issues 6 and 12)',
    '',
    markdownTable(
      ['goal', 'target', 'measured', 'result'],
      r.goals.map((g) => [g.goal, g.target, g.measured, verdict(g.pass)]),
      { textColumns: 3 },
    ),
    ...(r.mode === 'quick' || afterJobSlow ? [''] : []),
    ...(r.mode === 'quick'
      ? ['- A quick run: an 8 s clip and a 256 MiB upload stand in for the 30 s clip and the 1 GiB upload the goals are stated for.']
      : []),
    ...(afterJobSlow
      ? [
          `- The dispatch goal holds for an idle poller whose long polls are all out; a \`low\` job arriving after a \`high\` one on a worker that ` +
            `went idle waited ${fixed(r.dispatch!.afterJob!.dispatch.p50Ms, 1)} ms at the median (see Dispatch latency).`,
        ]
      : []),
  ];
}

const ms = (x: number) => x.toFixed(1);
const latencyCells = (s: LatencyStats) => [String(s.count), ms(s.p50Ms), ms(s.p90Ms), ms(s.p99Ms), ms(s.maxMs)];

/** Why a job can wait for the next poll round (workers/transcode/tier-poller.ts as of this bench). */
const ROUND_GAP =
  'A new round starts only once every long poll out has ended: after a job the poller re-arms only the tier that delivered it, and a tier ' +
  'whose older long poll ends empty stays unpolled until the others end too (TierPoller.longPollAll), so a job arriving in between waits ' +
  'for that, up to one poll wait.';

function dispatchSection(d: DispatchLatencyResult, scaling: ScalingResult | undefined): string[] {
  const [minIdle, maxIdle] = d.settings.idleBeforeSendMs;
  const pickups = scaling
    ? [scaling.throughput.one, ...scaling.throughput.pairs.slice(0, 1).map((p) => p.two)].map(
        (run) => `${run.firstPickupMs} ms (${run.workers} idle)`,
      )
    : [];
  const { high, low } = d.idle;
  const slowTail = Math.max(high.dispatch.p99Ms, low.dispatch.p99Ms) > 3 * Math.max(high.dispatch.p50Ms, low.dispatch.p50Ms) + 10;
  return [
    '',
    '## Dispatch latency',
    '',
    `The real \`TierPoller\` (workers/transcode/tier-poller.ts), what every worker loop calls for its next job, idle and long-polling all three ` +
      `tiers at once (wait ${d.settings.pollWaitSeconds} s), against the emulator in its own process. Tiny jobs, one at a time, each after a random ` +
      `${minIdle}–${maxIdle} ms pause, alternating at random between \`high\` and \`low\`; timed from right before SendMessage to \`next()\` ` +
      `returning the job, both in this process, so no cross-process clocks or status writes blur it. ms.`,
    '',
    markdownTable(
      ['tier', 'jobs', 'p50', 'p90', 'p99', 'max', 'SendMessage round trip p50', 'round trip p99'],
      (['high', 'low'] as const).map((tier) => [
        tier,
        ...latencyCells(d.idle[tier].dispatch),
        ms(d.idle[tier].sendRoundTrip.p50Ms),
        ms(d.idle[tier].sendRoundTrip.p99Ms),
      ]),
    ),
    '',
    `- Of the ${ms(high.dispatch.p50Ms)} ms median (high), SendMessage's own round trip is ${ms(high.sendRoundTrip.p50Ms)} ms: the long poll hands the job ` +
      `over about when the sender's call returns.` +
      (Math.abs(low.dispatch.p50Ms - high.dispatch.p50Ms) <= Math.max(2, 0.2 * high.dispatch.p50Ms)
        ? ' The bottom tier is as fast as the top one: an idle poller long-polls every tier at once.'
        : ` The bottom tier's median differs from the top one's by ${ms(low.dispatch.p50Ms - high.dispatch.p50Ms)} ms.`),
    ...(slowTail &&
    Math.max(high.dispatch.p99Ms - high.sendRoundTrip.p99Ms, low.dispatch.p99Ms - low.sendRoundTrip.p99Ms) <=
      Math.max(5, 0.2 * high.dispatch.p99Ms)
      ? [
          `- The slow tail is SendMessage's: its own round trip has about the same p99, so the emulator (or the machine) answered late, ` +
            `not the poller.`,
        ]
      : []),
    ...(['high', 'low'] as const).flatMap((tier) => {
      const late = d.idle[tier].notLongPolled;
      return late
        ? [
            `- ${late.count} of ${d.idle[tier].dispatch.count} \`${tier}\` jobs were not received by a long poll but by the immediate receives that ` +
              `start a poll round (median ${ms(late.p50Ms)} ms, max ${ms(late.maxMs)} ms). ${ROUND_GAP}`,
          ]
        : [];
    }),
    ...(d.afterJob
      ? [
          `- A \`low\` job at a random point of the poll wait after a \`high\` one, each on a fresh poller (${d.afterJob.dispatch.count} samples, ` +
            `as for a worker that finished a short job and went idle): p50 **${ms(d.afterJob.dispatch.p50Ms)} ms**, max **${ms(d.afterJob.dispatch.maxMs)} ms**; ` +
            `${d.afterJob.notLongPolled} of them only a new poll round found.` +
            (d.afterJob.notLongPolled > 0 ? ` ${ROUND_GAP}` : ''),
        ]
      : []),
    ...(pickups.length > 0
      ? [
          `- Through a whole worker process (SendMessageBatch → the \`startedAt\` it writes after reading the status document, first job of a burst ` +
            `on idle workers, see Scaling): ${pickups.join(', ')}.`,
        ]
      : []),
    `- CPU during the series: bench process ${d.cpuPercent.bench.toFixed(0)}%, emulator ${d.cpuPercent.emulator.toFixed(0)}% of a core; other load ${fixed(d.otherLoadCores)} cores.`,
  ];
}

function idleGapSection(d: DispatchLatencyResult | undefined, scaling: ScalingResult | undefined): string[] {
  return [
    '',
    '## Idle time between jobs on a busy worker',
    '',
    'From the end of one job to the start of the next while a backlog waits, ms.',
    '',
    markdownTable(
      ['measured on', 'gaps', 'p50', 'p90', 'p99', 'max'],
      [
        ...(d
          ? [
              [
                `TierPoller, ${d.busy.jobs} tiny jobs on \`low\`: message deleted → next one received (immediate receives on high and normal first)`,
                ...latencyCells(d.busy.gap),
              ],
            ]
          : []),
        ...(scaling
          ? [
              [
                `one worker process, ${scaling.throughput.one.jobs} jobs of the 3 s sample: \`finishedAt\` → next \`startedAt\` (status write, ` +
                  'SNS publish, delete, receive, status read)',
                ...latencyCells(scaling.busyWorkerGapMs),
              ],
            ]
          : []),
      ],
    ),
  ];
}

function prioritySection(p: PriorityResult): string[] {
  const missed = p.runs.filter((run) => run.jobsStartedBefore > 0);
  const handedBackMissed = missed.filter((run) => run.handedBack > 0);
  const handedBack = p.runs.flatMap((run, k) => (run.handedBack > 0 ? [k] : []));
  return [
    '',
    '## Priority',
    '',
    `One worker process, idle, then ${p.lowBacklog} \`low\` jobs of ${p.sample} at once; while it runs one of them, a \`high\` job is ` +
      `sent. Job order and times from the status documents, hand-backs from the worker's debug log. ` +
      `Long-poll wait ${p.worker.pollWaitSeconds} s; one job in ${p.worker.fairnessEvery} starts from \`low\` (anti-starvation), which this run stays below. ` +
      `Other load ${fixed(p.otherLoadCores)} cores.`,
    '',
    markdownTable(
      [
        'high job',
        'sent, s after the backlog',
        'sent, ms into the job in hand (of)',
        'jobs started before it',
        'position',
        'delay s',
        'handed back',
      ],
      p.runs.map((run, k) => [
        String(k + 1),
        fixed(run.sinceBacklogSeconds),
        `${run.sentAfterJobStartMs.toFixed(0)} (${(run.jobInHandSeconds * 1000).toFixed(0)})`,
        String(run.jobsStartedBefore),
        run.jobsStartedBefore === 0 ? '1 (next)' : `**${run.jobsStartedBefore + 1}**`,
        fixed(run.delaySeconds),
        String(run.handedBack),
      ]),
    ),
    '',
    missed.length === 0
      ? '- Every high job was the very next to start: its delay is the rest of the job in hand plus the gap between jobs.'
      : `- ${missed.length} of ${p.runs.length} high job${p.runs.length === 1 ? '' : 's'} did not start next.`,
    ...(handedBack.length > 0
      ? [
          `- High job${handedBack.length === 1 ? '' : 's'} ${handedBack.map((k) => k + 1).join(', ')} arrived while the long polls of the worker's idle ` +
            'moments were still out on `high` and `normal` (for up to the poll wait after it went busy): one of them received the job while the ' +
            'worker was busy and handed it back with a 1 s visibility (not 0: the fauxqs bug). ' +
            (handedBackMissed.length > 0
              ? 'The job in hand ended before that second was over, so the worker took the next `low` job instead: a priority inversion.'
              : 'The job in hand outlasted that second, so it still started next; a shorter job in hand would have let a `low` job go first.'),
        ]
      : []),
  ];
}

function scalingSection(s: ScalingResult, cores: number): string[] {
  const [u] = s.scaleUps;
  const { one, pairs } = s.throughput;
  const row = (label: string, run: ScalingResult['throughput']['one']) => [
    label,
    String(run.jobs),
    fixed(run.seconds),
    fixed(run.jobsPerMinute, 1),
    fixed(run.jobMs.p50Ms / 1000),
    fixed(run.jobMs.maxMs / 1000),
    fixed(run.readyMs.p50Ms / 1000),
    fixed(run.readyMs.p95Ms / 1000),
    run.firstPickupMs.toFixed(0),
    run.cpuPercent.toFixed(0),
    fixed(run.otherLoadCores),
  ];
  const rows = [
    row('1', one),
    ...pairs.flatMap((p, i) => {
      const two = row(`2 (pair ${i + 1})`, p.two);
      const auto = row(`1→${p.autoscaled.workers} supervisor (pair ${i + 1})`, p.autoscaled);
      return p.first === 'two' ? [two, auto] : [auto, two];
    }),
  ];
  const seconds = (pick: (run: ScalingResult['scaleUps'][number]) => number | undefined) =>
    s.scaleUps.map((run) => fixed(pick(run))).join(', ');
  const loads = [one, ...pairs.flatMap((p) => [p.two, p.autoscaled])].map((run) => run.otherLoadCores);
  return [
    '',
    '## Scaling',
    '',
    `The supervisor (workers/supervisor/) in this process, forking real \`workers/transcode/main.ts\` processes against the emulator in its own ` +
      `process, at its default settings (poll ${s.settings.supervisorPollSeconds} s, ${s.settings.standbyWorkers} standby worker${s.settings.standbyWorkers === 1 ? '' : 's'}) but for no scale-down while measuring; jobs are ${s.sample} at \`normal\`; ` +
      `x264 preset ${s.settings.preset}, ffmpeg -threads ${s.settings.threads}, nice ${s.settings.niceness} in every worker.`,
    '',
    ...(u
      ? [
          `**Scale-up**, ${u.minWorkers}–${u.maxWorkers} workers at ${u.jobsPerWorker} jobs per worker, a burst of ` +
            `${u.burst} jobs on ${u.minWorkers} idle worker${u.minWorkers === 1 ? '' : 's'} (sent at a random point of the ${u.pollSeconds} s poll), ` +
            `${s.scaleUps.length === 1 ? 'once' : `${s.scaleUps.length} times`}, seconds after the burst:`,
          '',
          markdownTable(
            ['supervisor decided to scale up', `all ${u.maxWorkers} workers running and polling`, 'first job on the new worker'],
            [
              [
                seconds((run) => run.decidedSeconds),
                seconds((run) => run.allRunningSeconds),
                seconds((run) => run.newWorkerFirstJobSeconds),
              ],
            ],
            { textColumns: 0 },
          ),
          '',
        ]
      : []),
    `**Throughput**, a burst on idle workers until every video is ready: 1 worker once, then ${pairs.length} pair${pairs.length === 1 ? '' : 's'} ` +
      'of 2 workers from the start and the supervisor starting at 1 free to go to 2, in alternating order:',
    '',
    markdownTable(
      [
        'workers',
        'jobs',
        'wall s',
        'jobs/min',
        'job p50 s',
        'job max s',
        'queued → ready p50 s',
        'p95 s',
        'first pickup ms',
        'CPU % (all of ours)',
        'other load, cores',
      ],
      rows,
      { textColumns: 1 },
    ),
    '',
    `2 workers / 1 worker: **${times(s.throughput.twoToOne)}** jobs per minute (median of the 2-worker runs); ` +
      `supervisor from 1 / 2 from the start, paired: **${describeSpread(s.throughput.autoscaledToTwo, 3)}**.`,
    '',
    `- One worker alone kept ${(one.cpuPercent / 100).toFixed(2)} of the ${cores} cores busy (ffmpeg runs with -threads ${s.settings.threads}), so a second ` +
      `worker can only use what is left` +
      (Math.max(...loads) > NOISY_CORES
        ? `, and other load took ${fixed(Math.min(...loads))}–${fixed(Math.max(...loads))} cores of the machine meanwhile: compare the ratio with care.`
        : '.'),
  ];
}

function transcodeSection(t: TranscodeOverheadResult): string[] {
  const outputs = t.settings.outputs.map((o) => `${o.name} ${o.width}x${o.height}`).join(', ');
  const raw = t.raw.mean;
  const row = (label: string, timing: Timing, vsRaw: boolean) => [
    label,
    fixed(timing.wallSeconds),
    fixed(timing.cpuSeconds),
    vsRaw ? times(timing.wallSeconds / raw.wallSeconds) : '',
    vsRaw ? times(timing.cpuSeconds / raw.cpuSeconds) : '',
    fixed(timing.otherLoadCores),
  ];
  const s = t.pipeline.stages;
  const same = (a: Record<string, number>, b: Record<string, number>) => JSON.stringify(a) === JSON.stringify(b);
  const identical = same(t.rawOutputBytes, t.pipeline.outputBytes) && same(t.rawOutputBytes, t.naive.outputBytes);
  const noisy = [...t.raw.runs, t.pipeline.timing, t.naive.total].some((x) => x.otherLoadCores > NOISY_CORES);
  return [
    '',
    '## Transcode overhead',
    '',
    `Source: ${t.clip.seconds} s ${t.clip.width}x${t.clip.height} ${t.clip.fps} fps H.264${t.clip.hasAudio ? ' + AAC' : ''} ` +
      `(${mib(t.clip.bytes)} MiB) → ${outputs}; x264 preset ${t.settings.preset}, threads ${t.settings.threads || 'auto'}, ` +
      `nice ${t.settings.niceness} for every ffmpeg. CPU = this process (API, worker, emulator) plus every ffmpeg/ffprobe it ran.`,
    '',
    markdownTable(
      ['way', 'wall s', 'CPU s', 'wall vs raw', 'CPU vs raw', 'other load, cores'],
      [
        row(
          `raw: the worker's one ffmpeg command by hand (mean of ${t.raw.runs.map((x) => fixed(x.wallSeconds)).join(' s and ')} s)`,
          raw,
          true,
        ),
        row('pipeline: 202 received → video.ready received', t.pipeline.timing, true),
        row('naive: one ffmpeg per output, one after another', t.naive.total, true),
        ...t.naive.perOutput.map((p) => row(`· naive ${p.output} alone`, p.timing, false)),
      ],
    ),
    '',
    'Pipeline stages, seconds (from the status document and the worker log; they start at `queuedAt`, just before the 202):',
    '',
    markdownTable(
      [
        'upload: POST → 202',
        'queued → processing',
        'download + probe',
        'ffmpeg + measure + store',
        'finished → event received',
        'first job of a cold worker (3 s sample)',
      ],
      [
        [
          fixed(s.uploadSeconds),
          fixed(s.pickupSeconds),
          fixed(s.downloadProbeSeconds),
          fixed(s.transcodeStoreSeconds),
          fixed(s.notifySeconds),
          fixed(t.pipeline.warmupSeconds),
        ],
      ],
      { textColumns: 0 },
    ),
    '',
    identical
      ? '- The three ways wrote byte-identical outputs: the comparison is like for like.'
      : `- The outputs differ in size between the ways (raw ${JSON.stringify(t.rawOutputBytes)}, pipeline ${JSON.stringify(t.pipeline.outputBytes)}, naive ${JSON.stringify(t.naive.outputBytes)}).`,
    ...(noisy ? [`- Other load exceeded ${NOISY_CORES} cores during some runs: trust the CPU ratios more than the wall ones.`] : []),
    ...hlsLines(t),
  ];
}

function hlsLines(t: TranscodeOverheadResult): string[] {
  const h = t.hls;
  const pct = (r: { median: number; min: number; max: number }) =>
    `${((r.median - 1) * 100).toFixed(1)} % (pairs ${((r.min - 1) * 100).toFixed(1)} to ${((r.max - 1) * 100).toFixed(1)} %)`;
  return [
    '',
    '### What HLS and the storyboard add',
    '',
    `The worker's one ffmpeg command with the HLS variants (tee: MP4 + fMP4 from one encode, keyframes every 4 s) and the ` +
      `storyboard branch, against the same command without them, ${h.pairs.length} pairs in alternating order:`,
    '',
    markdownTable(
      ['pair', 'with: wall s', 'without: wall s', 'with: CPU s', 'without: CPU s', 'other load, cores'],
      h.pairs.map((p, i) => [
        String(i + 1),
        fixed(p.with.wallSeconds),
        fixed(p.without.wallSeconds),
        fixed(p.with.cpuSeconds),
        fixed(p.without.cpuSeconds),
        `${fixed(p.with.otherLoadCores)} / ${fixed(p.without.otherLoadCores)}`,
      ]),
    ),
    '',
    `- Added wall time, median: ${pct(h.wallRatio)}; added CPU time: ${pct(h.cpuRatio)}.`,
    `- Stored on top of the MP4s (${mib(h.mp4Bytes)} MiB): ${h.hlsFiles} HLS files, ${mib(h.hlsBytes)} MiB, and a ${(h.storyboardBytes / 1024).toFixed(0)} KiB storyboard.`,
  ];
}

/** True when the measured processes and everything else together kept (nearly) every core busy. */
function machineSaturated(run: UploadRun, cores: number): boolean {
  const ours = ((run.cpuPercent.api ?? 0) + run.cpuPercent.emulator + run.cpuPercent.client) / 100;
  return ours + run.otherLoadCores >= 0.9 * cores;
}

function ingestSection(i: IngestMemoryResult, cores: number): string[] {
  const size = (bytes: number) => (bytes >= 1024 ** 3 ? `${bytes / 1024 ** 3} GiB` : `${bytes / 1024 ** 2} MiB`);
  const cpu = (c: { api: number | undefined; emulator: number; client: number }) =>
    `${c.api === undefined ? '—' : c.api.toFixed(0)} / ${c.emulator.toFixed(0)} / ${c.client.toFixed(0)}`;
  const { small, big } = i.api;
  const inFlight = `${size(i.partBytes)} parts × ${i.queueSize} in flight`;
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  // What streaming must hold at least: the parts in flight plus the one being filled.
  const inFlightBytes = i.partBytes * (i.queueSize + 1);
  const memoryNote =
    big.peakGrowth <= 4 * inFlightBytes
      ? `- API memory stays bounded while streaming: ${(big.bytes / small.bytes).toFixed(0)}× the bytes took the peak RSS growth from ` +
        `${mib(small.peakGrowth)} to ${mib(big.peakGrowth)} MiB, within 4× the ${mib(inFlightBytes, 0)} MiB of parts in flight (${inFlight} and one filling; ` +
        `the rest most likely buffers awaiting garbage collection).`
      : `- API memory follows the upload size: the ${size(big.bytes)} upload raised peak RSS by ${mib(big.peakGrowth)} MiB, more than 4× the ` +
        `${mib(inFlightBytes, 0)} MiB of parts in flight (${inFlight} and one filling): something buffers the body.`;
  const emulatorSaturated = i.direct.cpuPercent.emulator >= SATURATED_CPU_PERCENT;
  const throughputNote = [
    emulatorSaturated
      ? `- The emulator is the throughput bottleneck, not reelay: a client writing straight to fauxqs (nearly) saturates it ` +
        `(${i.direct.cpuPercent.emulator.toFixed(0)}% of a core at ${fixed(i.direct.mibPerSecond, 1)} MiB/s; fauxqs is one Node process that keeps ` +
        `every part of an upload in memory and writes each with writeFileSync).`
      : machineSaturated(i.direct, cores)
        ? `- The machine was saturated during the direct upload (other load ${fixed(i.direct.otherLoadCores)} of ${cores} cores), so fauxqs got only ` +
          `${i.direct.cpuPercent.emulator.toFixed(0)}% of a core (${fixed(i.direct.mibPerSecond, 1)} MiB/s): the throughput figures mostly measure the noise; rerun on a quieter machine.`
        : `- Writing straight to fauxqs kept it at ${i.direct.cpuPercent.emulator.toFixed(0)}% of a core (${fixed(i.direct.mibPerSecond, 1)} MiB/s) ` +
          `on an unsaturated machine: neither it nor the machine ran out of CPU, so request latency limited the direct upload.`,
    i.apiToDirectThroughput >= EMULATOR_BOUND_RATIO
      ? `- Through the API uploads reach ${pct(i.apiToDirectThroughput)} of the direct throughput: the API adds little on top of the emulator.`
      : `- Through the API uploads reach ${pct(i.apiToDirectThroughput)} of the direct throughput: the extra hop (client → API → emulator, ` +
        `${(big.cpuPercent.api ?? 0).toFixed(0)}% of a core for the API) competes with the emulator for ${cores} cores.`,
  ];
  return [
    '',
    '## Ingest memory',
    '',
    `A generated raw body (application/octet-stream) streamed to POST /v1/videos of \`node api/main.ts\`, a fresh API process per size ` +
      `(RSS sampled every 50 ms from /proc, plus VmHWM); then the same bytes straight to the emulator with lib-storage ` +
      `(partSize ${size(i.partBytes)}, queueSize ${i.queueSize}, as api/uploads/ingest.ts). The emulator runs in its own process. CPU in % of one core.`,
    '',
    markdownTable(
      [
        'upload',
        'API RSS before MiB',
        'API peak growth MiB',
        'time s',
        'MiB/s',
        'CPU % API / emulator / client',
        'emulator peak RSS MiB',
        'other load, cores',
      ],
      [
        ...[small, big].map((run) => [
          `${size(run.bytes)} via the API`,
          mib(run.baselineRss),
          mib(run.peakGrowth),
          fixed(run.seconds),
          fixed(run.mibPerSecond, 1),
          cpu(run.cpuPercent),
          mib(run.emulatorPeakRss, 0),
          fixed(run.otherLoadCores),
        ]),
        [
          `${size(i.direct.bytes)} direct (lib-storage)`,
          '—',
          '—',
          fixed(i.direct.seconds),
          fixed(i.direct.mibPerSecond, 1),
          cpu(i.direct.cpuPercent),
          mib(i.direct.emulatorPeakRss, 0),
          fixed(i.direct.otherLoadCores),
        ],
      ],
    ),
    '',
    `API / direct throughput: **${fixed(i.apiToDirectThroughput)}**`,
    '',
    memoryNote,
    ...throughputNote,
  ];
}
