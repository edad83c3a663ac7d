import type { IngestMemoryResult, UploadRun } from './ingest-memory.ts';
import type { GitInfo, MachineInfo } from './lib/machine.ts';
import { fixed, markdownTable, mib, times } from './lib/markdown.ts';
import type { Timing } from './lib/measure.ts';
import type { TranscodeOverheadResult } from './transcode-overhead.ts';

/** Everything one `npm run bench` measured; written as JSON to bench/results/. */
export interface BenchResults {
  schema: 1;
  startedAt: string;
  durationSeconds: number;
  mode: 'quick' | 'full';
  git: GitInfo;
  machine: MachineInfo & { loadAverageAtEnd: number };
  transcode?: TranscodeOverheadResult;
  ingest?: IngestMemoryResult;
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
  return [
    `# reelay bench — ${r.startedAt.slice(0, 10)}, commit ${r.git.commit}${r.git.dirty ? ' (work tree had changes)' : ''}, ${r.mode} run`,
    '',
    `${m.cores} cores (${m.cpuModel}), ${(m.memoryBytes / 1024 ** 3).toFixed(1)} GiB, Linux ${m.kernel}; Node ${m.node}; ` +
      `ffmpeg ${m.ffmpeg.version} (${m.ffmpeg.path}, from ${m.ffmpeg.origin}); ` +
      `load average ${m.loadAverageAtStart.toFixed(2)} at start, ${m.loadAverageAtEnd.toFixed(2)} at end; ${r.durationSeconds.toFixed(0)} s in all. ` +
      `"Other load" is how many cores the rest of the machine kept busy meanwhile: the noise.`,
    ...(r.transcode ? transcodeSection(r.transcode) : []),
    ...(r.ingest ? ingestSection(r.ingest, m.cores) : []),
  ].join('\n') + '\n';
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
        row(`raw: the worker's one ffmpeg command by hand (mean of ${t.raw.runs.map((x) => fixed(x.wallSeconds)).join(' s and ')} s)`, raw, true),
        row('pipeline: 202 received → video.ready received', t.pipeline.timing, true),
        row('naive: one ffmpeg per output, one after another', t.naive.total, true),
        ...t.naive.perOutput.map((p) => row(`· naive ${p.output} alone`, p.timing, false)),
      ],
    ),
    '',
    'Pipeline stages, seconds (from the status document and the worker log; they start at `queuedAt`, just before the 202):',
    '',
    markdownTable(
      ['upload: POST → 202', 'queued → processing', 'download + probe', 'ffmpeg + measure + store', 'finished → event received', 'first job of a cold worker (3 s sample)'],
      [[fixed(s.uploadSeconds), fixed(s.pickupSeconds), fixed(s.downloadProbeSeconds), fixed(s.transcodeStoreSeconds), fixed(s.notifySeconds), fixed(t.pipeline.warmupSeconds)]],
      { textColumns: 0 },
    ),
    '',
    identical
      ? '- The three ways wrote byte-identical outputs: the comparison is like for like.'
      : `- The outputs differ in size between the ways (raw ${JSON.stringify(t.rawOutputBytes)}, pipeline ${JSON.stringify(t.pipeline.outputBytes)}, naive ${JSON.stringify(t.naive.outputBytes)}).`,
    ...(noisy ? [`- Other load exceeded ${NOISY_CORES} cores during some runs: trust the CPU ratios more than the wall ones.`] : []),
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
      `(partSize ${size(i.partBytes)}, queueSize ${i.queueSize}, as api/ingest.ts). The emulator runs in its own process. CPU in % of one core.`,
    '',
    markdownTable(
      ['upload', 'API RSS before MiB', 'API peak growth MiB', 'time s', 'MiB/s', 'CPU % API / emulator / client', 'emulator peak RSS MiB', 'other load, cores'],
      [
        [`${size(small.bytes)} via the API`, mib(small.baselineRss), mib(small.peakGrowth), fixed(small.seconds), fixed(small.mibPerSecond, 1), cpu(small.cpuPercent), mib(small.emulatorPeakRss, 0), fixed(small.otherLoadCores)],
        [`${size(big.bytes)} via the API`, mib(big.baselineRss), mib(big.peakGrowth), fixed(big.seconds), fixed(big.mibPerSecond, 1), cpu(big.cpuPercent), mib(big.emulatorPeakRss, 0), fixed(big.otherLoadCores)],
        [`${size(i.direct.bytes)} direct (lib-storage)`, '—', '—', fixed(i.direct.seconds), fixed(i.direct.mibPerSecond, 1), cpu(i.direct.cpuPercent), mib(i.direct.emulatorPeakRss, 0), fixed(i.direct.otherLoadCores)],
      ],
    ),
    '',
    `API / direct throughput: **${fixed(i.apiToDirectThroughput)}**`,
    '',
    memoryNote,
    ...throughputNote,
  ];
}
