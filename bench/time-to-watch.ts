/**
 * Time to watch (#21 part 1), as a user sees it: 1080p30 sources of 1 and 5 minutes (20 with `--long`)
 * uploaded to a fresh `npm start` with ONE worker process, timed from the 202 to `video.playable` and to
 * `video.ready` on the API's SSE stream; median and min–max over `runs` uploads of each. Each video is
 * deleted after its run, so the emulator's disk stays small. Sources longer than a minute are the
 * one-minute clip looped by stream copy (same content, same bit rate).
 *
 *   node bench/time-to-watch.ts [--quick] [--long] [--runs N] [--lengths 60,300,1200]
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config/index.ts';
import { locateFfmpeg, type FfmpegBinaries } from '../core/ffmpeg/locate.ts';
import { SseClient } from '../testkit/sse-client.ts';
import { benchStopping, withCleanup } from './lib/cleanup.ts';
import { startDevStack } from './lib/dev-stack-process.ts';
import { generateClip, runFfmpegArgv } from './lib/ffmpeg.ts';
import { postVideo } from './lib/http-upload.ts';
import { fixed, markdownTable } from './lib/markdown.ts';
import { progress } from './lib/progress.ts';
import { BENCH_API_KEY } from './lib/reelay-setup.ts';
import { spread, type Spread } from './lib/spread.ts';
import { makeTempDir } from './lib/temp-dir.ts';

/** Issue 21's goal: 202 → playable at most this many seconds, median, for a 1080p30 source of any length. */
export const TIME_TO_PLAYABLE_GOAL_SECONDS = 5;

export interface TimeToWatchOptions {
  /** Source lengths, seconds. */
  durations: number[];
  runs: number;
  binaries: FfmpegBinaries;
}

export interface TimeToWatchRun {
  playableSeconds: number;
  readySeconds: number;
  loadAverage: number;
  /** The worker's own clock up to playable (its `video playable` log line), ms. */
  workerTimingsMs: Record<string, number> | undefined;
}

export interface TimeToWatchRow {
  sourceSeconds: number;
  sourceBytes: number;
  runs: TimeToWatchRun[];
  playable: Spread;
  ready: Spread;
}

export interface TimeToWatchResult {
  workers: 1;
  preset: string;
  firstSegmentSeconds: number;
  loadAverageBefore: number;
  rows: TimeToWatchRow[];
}

export async function runTimeToWatch({ durations, runs, binaries }: TimeToWatchOptions): Promise<TimeToWatchResult> {
  return withCleanup(async (cleanup) => {
    const loadAverageBefore = loadavg()[0] ?? 0;
    const workDir = await makeTempDir(cleanup, 'ttw');
    const base = path.join(workDir, 'clip-60.mp4');
    const baseSeconds = Math.min(60, Math.max(...durations));
    progress(`ttw: generating a ${baseSeconds} s 1080p30 clip with audio`);
    await generateClip(binaries.ffmpeg.path, base, { seconds: baseSeconds, fps: 30 });
    const sources = new Map<number, string>();
    for (const seconds of durations) {
      if (seconds === baseSeconds) {
        sources.set(seconds, base);
        continue;
      }
      const file = path.join(workDir, `clip-${seconds}.mp4`);
      // The clip looped by stream copy: a long source in seconds rather than an encode of its length.
      const loopArgs = ['-stream_loop', '-1', '-i', base, '-t', String(seconds), '-c', 'copy', '-movflags', '+faststart', file];
      await runFfmpegArgv(binaries.ffmpeg.path, ['-hide_banner', '-nostdin', '-y', '-v', 'error', ...loopArgs]);
      sources.set(seconds, file);
    }

    progress('ttw: npm start with one worker process');
    const stack = await startDevStack(cleanup, workDir, { REELAY_WORKERS_MIN: '1', REELAY_WORKERS_MAX: '1' });
    const auth = { authorization: `Bearer ${BENCH_API_KEY}` };
    const sse = await SseClient.connect(`${stack.apiUrl}/v1/events?type=video.playable,video.ready,video.failed`, { headers: auth });
    cleanup.defer('close the SSE stream', () => sse.close());
    // When each event arrived, by `<type> <videoId>`: read at arrival, not when the bench gets to look.
    const arrived = new Map<string, number>();
    sse.onEvent = (e) => {
      const subject = (JSON.parse(e.data) as { subject?: string }).subject;
      if (subject && !arrived.has(`${e.event} ${subject}`)) arrived.set(`${e.event} ${subject}`, performance.now());
    };

    const runOnce = async (file: string): Promise<TimeToWatchRun> => {
      const loadAverage = loadavg()[0] ?? 0;
      const bytes = (await stat(file)).size;
      const upload = await postVideo(stack.apiUrl, createReadStream(file), {
        bytes,
        apiKey: BENCH_API_KEY,
        contentType: 'video/mp4',
        signal: benchStopping,
      });
      const t0 = performance.now();
      const id = (upload.body as { id?: unknown }).id;
      if (upload.status !== 202 || typeof id !== 'string')
        throw new Error(`POST /v1/videos answered ${upload.status}: ${JSON.stringify(upload.body)}`);
      const done = await Promise.race([
        sse.waitFor(
          `video.ready of ${id}`,
          (e) => e.event !== 'video.playable' && (JSON.parse(e.data) as { subject?: string }).subject === id,
          30 * 60_000,
        ),
        stack.exited,
      ]);
      if (done.event === 'video.failed') throw new Error(`video ${id} failed: ${done.data}`);
      const playableAt = arrived.get(`video.playable ${id}`);
      if (playableAt === undefined) throw new Error(`video ${id} was ready without a video.playable event`);
      const run: TimeToWatchRun = {
        playableSeconds: (playableAt - t0) / 1000,
        readySeconds: (arrived.get(`video.ready ${id}`)! - t0) / 1000,
        loadAverage,
        workerTimingsMs: stack.log.timingsOf(id, 'video playable'),
      };
      const removed = await fetch(`${stack.apiUrl}/v1/videos/${id}`, { method: 'DELETE', headers: auth });
      if (removed.status !== 204) progress(`ttw: DELETE of ${id} answered ${removed.status}`);
      return run;
    };

    progress(`ttw: warm-up (the ${baseSeconds} s clip once)`);
    await runOnce(base);

    const rows: TimeToWatchRow[] = [];
    for (const seconds of durations) {
      const file = sources.get(seconds)!;
      const done: TimeToWatchRun[] = [];
      for (let i = 0; i < runs; i++) {
        const run = await runOnce(file);
        progress(
          `ttw: ${seconds} s source, run ${i + 1}/${runs}: playable ${run.playableSeconds.toFixed(2)} s, ready ${run.readySeconds.toFixed(1)} s ` +
            `(load ${run.loadAverage.toFixed(2)})`,
        );
        done.push(run);
      }
      rows.push({
        sourceSeconds: seconds,
        sourceBytes: (await stat(file)).size,
        runs: done,
        playable: spread(done.map((r) => r.playableSeconds)),
        ready: spread(done.map((r) => r.readySeconds)),
      });
    }
    return {
      workers: 1,
      preset: stack.config.ffmpeg.preset,
      firstSegmentSeconds: stack.config.ffmpeg.firstSegmentSeconds,
      loadAverageBefore,
      rows,
    };
  });
}

export function renderTimeToWatch(r: TimeToWatchResult): string {
  const s = (x: Spread) => `${x.median.toFixed(2)} (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
  const minutes = (seconds: number) => (seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`);
  const stages = [...new Set(r.rows.flatMap((row) => row.runs.flatMap((run) => Object.keys(run.workerTimingsMs ?? {}))))];
  return [
    `## Time to watch (#21): \`npm start\`, 202 → \`video.playable\` and → \`video.ready\` on SSE, ${r.workers} worker process`,
    '',
    `1080p30 sources (testsrc2 + AAC), x264 ${r.preset}, first HLS segments ${r.firstSegmentSeconds} s. ` +
      `Load average before: ${r.loadAverageBefore.toFixed(2)}. Seconds, median (min–max) of ${r.rows[0]?.runs.length ?? 0} runs.`,
    '',
    markdownTable(
      ['source', 'MB', '202 → playable, s', '202 → ready, s', `playable ≤ ${TIME_TO_PLAYABLE_GOAL_SECONDS} s (median)`],
      r.rows.map((row) => [
        minutes(row.sourceSeconds),
        (row.sourceBytes / 1e6).toFixed(0),
        s(row.playable),
        s(row.ready),
        row.playable.median <= TIME_TO_PLAYABLE_GOAL_SECONDS ? 'yes' : '**no**',
      ]),
    ),
    '',
    "The worker's clock up to `video playable` (medians, seconds):",
    '',
    markdownTable(
      ['stage', ...r.rows.map((row) => minutes(row.sourceSeconds))],
      stages.map((name) => [
        name,
        ...r.rows.map((row) => {
          const values = row.runs.map((run) => run.workerTimingsMs?.[name]).filter((v): v is number => v !== undefined);
          return values.length ? fixed(spread(values).median / 1000) : '–';
        }),
      ]),
    ),
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      long: { type: 'boolean', default: false },
      runs: { type: 'string' },
      lengths: { type: 'string' },
    },
  });
  const lengths = values.lengths?.split(',').map(Number);
  if (lengths?.some((n) => !Number.isInteger(n) || n < 1 || n > 7200))
    throw new Error(`--lengths takes whole seconds (1–7200), comma-separated`);
  const binaries = locateFfmpeg(loadConfig().ffmpeg);
  const result = await runTimeToWatch({
    durations: lengths ?? (values.quick ? [20] : values.long ? [60, 300, 1200] : [60, 300]),
    runs: Number(values.runs ?? (values.quick ? 2 : 3)),
    binaries,
  });
  process.stdout.write(renderTimeToWatch(result));
  process.stdout.write(`\n<!-- ttw result JSON\n${JSON.stringify({ startedAt: new Date().toISOString(), ttw: result }, null, 2)}\n-->\n`);
  process.exit(0);
}
