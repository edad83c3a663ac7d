/**
 * `npm run bench [-- [--quick] [--long] [--only e2e,variants,quality,transcode,ingest,dispatch,priority,scaling,events,live,ttw]]`: the markdown
 * report on stdout, progress on stderr, every figure as JSON in
 * bench/results/<date>-<commit>[-quick][-<only>].json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../core/config/index.ts';
import { ConfigError, describeError } from '../core/errors.ts';
import { locateFfmpeg } from '../core/ffmpeg/locate.ts';
import { runDispatchLatency } from './dispatch-latency.ts';
import { runEndToEnd } from './end-to-end.ts';
import { runFfmpegVariants } from './ffmpeg-variants.ts';
import { PRESETS, runQuality } from './quality.ts';
import { runEventLatency } from './event-latency.ts';
import { checkGoals } from './goals.ts';
import { runIngestMemory } from './ingest-memory.ts';
import { runLiveBench } from './live.ts';
import { parseBenchArgs, type BenchArgs, type BenchName } from './lib/args.ts';
import { GiB, MiB } from './lib/byte-source.ts';
import { runAllCleanups } from './lib/cleanup.ts';
import { gitInfo, machineInfo } from './lib/machine.ts';
import { progress } from './lib/progress.ts';
import { runPriority } from './priority.ts';
import { renderReport, type BenchResults } from './report.ts';
import { runScaling } from './scaling.ts';
import { runTimeToWatch } from './time-to-watch.ts';
import { runTranscodeOverhead } from './transcode-overhead.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

const SIZES = {
  full: {
    e2eClipSeconds: 20,
    e2ePairs: 5,
    variantRounds: 3,
    variantClipSeconds: 8,
    quality: { clipSeconds: 2, presets: PRESETS, crfs: [20, 23, 26] },
    clipSeconds: 30,
    bigUploadBytes: GiB,
    dispatchJobsPerTier: 100,
    backlogJobs: 50,
    afterJobSamples: 8,
    lowBacklog: 20,
    laterHighSendShares: [0.5, 0.9],
    burstJobs: 30,
    scaleUps: 3,
    burstPairs: 5,
    events: 300,
    live: { seconds: 30, maxStreams: 8 },
    ttw: { durations: [60, 300], runs: 3 },
  },
  quick: {
    e2eClipSeconds: 8,
    e2ePairs: 3,
    variantRounds: 2,
    variantClipSeconds: 4,
    quality: { clipSeconds: 2, presets: ['ultrafast', 'veryfast', 'medium'], crfs: [23, 27] },
    clipSeconds: 8,
    bigUploadBytes: 256 * MiB,
    dispatchJobsPerTier: 25,
    backlogJobs: 15,
    afterJobSamples: 0,
    lowBacklog: 5,
    laterHighSendShares: [0.5],
    burstJobs: 4,
    scaleUps: 1,
    burstPairs: 1,
    events: 60,
    live: { seconds: 14, maxStreams: 2 },
    ttw: { durations: [20], runs: 2 },
  },
} as const;
const SMALL_UPLOAD_BYTES = 10 * MiB;
/** Pause between two events of the event-latency benchmark (its own default). */
const EVENT_GAP_MS = 10;

async function main(args: BenchArgs): Promise<void> {
  const startedAt = new Date();
  const started = performance.now();
  const mode = args.quick ? 'quick' : 'full';
  const sizes = SIZES[mode];
  const config = loadConfig();
  const binaries = locateFfmpeg(config.ffmpeg);
  const [machine, git] = await Promise.all([machineInfo(binaries), gitInfo(REPO_ROOT)]);
  progress(`${mode} run on ${machine.cores} cores, node ${machine.node}, ffmpeg ${machine.ffmpeg.version} (${machine.ffmpeg.path})`);

  const runs = (name: BenchName) => args.only === undefined || args.only.includes(name);

  const e2e = runs('e2e') ? await runEndToEnd({ clipSeconds: sizes.e2eClipSeconds, pairs: sizes.e2ePairs, binaries }) : undefined;
  const variants = runs('variants')
    ? await runFfmpegVariants({
        clipSeconds: sizes.variantClipSeconds,
        rounds: sizes.variantRounds,
        binaries,
        preset: config.ffmpeg.preset,
        threads: config.ffmpeg.threads,
        niceness: config.ffmpeg.niceness,
      })
    : undefined;
  const quality = runs('quality') ? await runQuality({ ...sizes.quality, binaries }) : undefined;
  const transcode = runs('transcode')
    ? await runTranscodeOverhead({
        clipSeconds: sizes.clipSeconds,
        binaries,
        preset: config.ffmpeg.preset,
        threads: config.ffmpeg.threads,
        niceness: config.ffmpeg.niceness,
      })
    : undefined;
  const ingest = runs('ingest') ? await runIngestMemory({ bigBytes: sizes.bigUploadBytes, smallBytes: SMALL_UPLOAD_BYTES }) : undefined;
  const dispatch = runs('dispatch')
    ? await runDispatchLatency({
        jobsPerTier: sizes.dispatchJobsPerTier,
        backlogJobs: sizes.backlogJobs,
        afterJobSamples: sizes.afterJobSamples,
      })
    : undefined;
  const priority = runs('priority')
    ? await runPriority({ lowBacklog: sizes.lowBacklog, laterSendShares: [...sizes.laterHighSendShares] })
    : undefined;
  const scaling = runs('scaling')
    ? await runScaling({ jobs: sizes.burstJobs, scaleUps: sizes.scaleUps, pairs: sizes.burstPairs })
    : undefined;
  const events = runs('events') ? await runEventLatency({ events: sizes.events, gapMs: EVENT_GAP_MS }) : undefined;
  const live = runs('live') ? await runLiveBench({ ...sizes.live, binaries }) : undefined;
  const ttw = runs('ttw')
    ? await runTimeToWatch({
        // --long adds the 20-minute source (about 15 minutes more on 2 cores).
        durations: args.long ? [...sizes.ttw.durations, 1200] : [...sizes.ttw.durations],
        runs: sizes.ttw.runs,
        binaries,
      })
    : undefined;

  const results: BenchResults = {
    schema: 1,
    startedAt: startedAt.toISOString(),
    durationSeconds: (performance.now() - started) / 1000,
    mode,
    git,
    machine: { ...machine, loadAverageAtEnd: loadavg()[0] ?? 0 },
    ...(e2e ? { e2e } : {}),
    ...(variants ? { variants } : {}),
    ...(quality ? { quality } : {}),
    ...(transcode ? { transcode } : {}),
    ...(ingest ? { ingest } : {}),
    ...(dispatch ? { dispatch } : {}),
    ...(priority ? { priority } : {}),
    ...(scaling ? { scaling } : {}),
    ...(events ? { events } : {}),
    ...(live ? { live } : {}),
    ...(ttw ? { ttw } : {}),
    goals: checkGoals({ e2e, transcode, ingest, dispatch, scaling, ttw }),
  };
  const file = path.join(
    RESULTS_DIR,
    `${results.startedAt.slice(0, 10)}-${git.commit}${args.quick ? '-quick' : ''}${args.only ? `-${args.only.join('-')}` : ''}.json`,
  );
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(renderReport(results));
  progress(`results written to ${path.relative(process.cwd(), file)}`);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    progress(`${signal}: cleaning up`);
    void runAllCleanups().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

let args: BenchArgs;
try {
  args = parseBenchArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${describeError(err)}\n`);
  process.exit(2);
}

try {
  await main(args);
} catch (err) {
  // A bad setting needs no stack trace; anything else does.
  const detail = err instanceof ConfigError || !(err instanceof Error) ? describeError(err) : (err.stack ?? err.message);
  process.stderr.write(`bench failed: ${detail}\n`);
  await runAllCleanups();
  // Whatever the failure left pending (a long poll, a timer) must not keep the bench alive.
  process.exit(1);
}
