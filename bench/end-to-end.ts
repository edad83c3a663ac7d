/**
 * End to end, as a user sees it: a 1080p clip uploaded to a fresh `npm start`
 * (infra/dev-stack.ts: emulator, API, supervisor with its worker, notifier,
 * webhooks, each its own process), timed from the 202 to the `video.ready`
 * event on the API's SSE stream, against the hand-written one-pass ffmpeg
 * command of bench/lib/reference-command.ts run by this process at normal
 * priority. The two alternate (reference first in even pairs, reelay first in
 * odd ones) so a change of machine load hits both; the goal is on the median
 * of the per-pair ratios.
 *
 *   node bench/end-to-end.ts [--quick] [--pairs N] [--seconds S]
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config/index.ts';
import type { VideoStatus } from '../core/video-status.ts';
import { locateFfmpeg, type FfmpegBinaries } from '../core/ffmpeg/locate.ts';
import { SseClient } from '../testkit/sse-client.ts';
import { startDevStack } from './lib/dev-stack-process.ts';
import { benchStopping, withCleanup } from './lib/cleanup.ts';
import { generateClip, runFfmpegArgv } from './lib/ffmpeg.ts';
import { postVideo } from './lib/http-upload.ts';
import { markdownTable, fixed } from './lib/markdown.ts';
import { measure, LoadWindow, round } from './lib/measure.ts';
import { childPids, cpuSecondsWithReapedChildren } from './lib/proc-stats.ts';
import { progress } from './lib/progress.ts';
import { referenceArgv } from './lib/reference-command.ts';
import { BENCH_API_KEY } from './lib/reelay-setup.ts';
import { spread, describeSpread, type Spread } from './lib/spread.ts';
import { makeTempDir } from './lib/temp-dir.ts';

const WARMUP_SAMPLE = fileURLToPath(new URL('../samples/small-480p.mkv', import.meta.url));

/** Goal of issue 12: reelay (202 → ready) at most this many times the hand-written command, median of the pairs. */
export const END_TO_END_GOAL = 1.05;

export interface EndToEndOptions {
  clipSeconds: number;
  pairs: number;
  binaries: FfmpegBinaries;
}

export interface WorkerStages {
  /** 202 → the status document's startedAt: queue, pickup, `processing` written. */
  pickupSeconds: number;
  /** startedAt → the worker's `transcoding` line: download (or not) and probe. */
  prepareSeconds: number | undefined;
  /** The worker's own account of the job, ms (its `video ready` log line), when it gives one. */
  workerTimingsMs: Record<string, number> | undefined;
  /** finishedAt → `video.ready` received on the SSE stream: status write, SNS, fan-out, SSE. */
  notifySeconds: number;
}

export interface EndToEndPair {
  order: 'reference-first' | 'reelay-first';
  referenceSeconds: number;
  reelaySeconds: number;
  /** reelay ÷ reference, wall. */
  ratio: number;
  referenceCpuSeconds: number;
  /** Every process of the stack (roles, emulator, their ffmpeg/ffprobe runs) during the job. */
  reelayCpuSeconds: number;
  cpuRatio: number;
  /** Cores kept busy by everything else on the machine meanwhile (mean of the two runs). */
  otherLoadCores: number;
  loadAverage: number;
  stages: WorkerStages;
}

export interface EndToEndResult {
  clip: { seconds: number; width: number; height: number; fps: number; bytes: number };
  referenceArgv: string[];
  reelaySettings: { preset: string; threads: number; niceness: number };
  loadAverageBefore: number;
  pairs: EndToEndPair[];
  referenceSeconds: Spread;
  reelaySeconds: Spread;
  ratio: Spread;
  cpuRatio: Spread;
  otherLoadCores: Spread;
}

export async function runEndToEnd({ clipSeconds, pairs, binaries }: EndToEndOptions): Promise<EndToEndResult> {
  return withCleanup(async (cleanup) => {
    const loadAverageBefore = loadavg()[0] ?? 0;
    const workDir = await makeTempDir(cleanup, 'e2e');
    const clipFile = path.join(workDir, 'clip.mp4');
    const fps = 30;
    progress(`e2e: generating a ${clipSeconds} s 1080p${fps} clip with audio`);
    await generateClip(binaries.ffmpeg.path, clipFile, { seconds: clipSeconds, fps });
    const clipBytes = (await stat(clipFile)).size;

    progress('e2e: npm start');
    const { apiUrl, config, child: stack, log, exited: stackExited } = await startDevStack(cleanup, workDir);
    progress(`e2e: npm start is up at ${apiUrl}`);

    const auth = { authorization: `Bearer ${BENCH_API_KEY}` };
    const sse = await SseClient.connect(`${apiUrl}/v1/events?type=video.ready,video.failed`, { headers: auth });
    cleanup.defer('close the SSE stream', () => sse.close());
    const stackCpu = () => treeCpuSeconds(stack.pid!);

    const runReelay = async (file: string, contentType: string) => {
      const bytes = (await stat(file)).size;
      const upload = await postVideo(apiUrl, createReadStream(file), { bytes, apiKey: BENCH_API_KEY, contentType, signal: benchStopping });
      const t0 = performance.now();
      const epoch0 = Date.now();
      const cpu0 = stackCpu();
      const load = new LoadWindow();
      const id = (upload.body as { id?: unknown }).id;
      if (upload.status !== 202 || typeof id !== 'string')
        throw new Error(`POST /v1/videos answered ${upload.status}: ${JSON.stringify(upload.body)}`);
      const event = await Promise.race([
        sse.waitFor(`video.ready of ${id}`, (e) => (JSON.parse(e.data) as { subject?: string }).subject === id, 10 * 60_000),
        stackExited,
      ]);
      const seconds = (performance.now() - t0) / 1000;
      const epochEnd = Date.now();
      const cpuSeconds = round(stackCpu() - cpu0);
      if (event.event === 'video.failed' || event.data.includes('"video.failed"')) throw new Error(`video ${id} failed: ${event.data}`);
      const res = await fetch(`${apiUrl}/v1/videos/${id}`, { headers: auth });
      const doc = (await res.json()) as VideoStatus;
      const at = (iso: string | undefined) => (iso ? Date.parse(iso) : NaN);
      const transcoding = log.mark(id, 'transcoding');
      const stages: WorkerStages = {
        pickupSeconds: (at(doc.startedAt) - epoch0) / 1000,
        prepareSeconds: transcoding === undefined ? undefined : (transcoding - at(doc.startedAt)) / 1000,
        workerTimingsMs: log.timings(id),
        notifySeconds: (epochEnd - at(doc.finishedAt)) / 1000,
      };
      return { seconds, cpuSeconds, otherLoadCores: load.otherLoadCores(cpuSeconds), stages };
    };

    const refOut = path.join(workDir, 'reference');
    const runReference = async () => {
      await rm(refOut, { recursive: true, force: true });
      await mkdir(refOut);
      const { timing } = await measure(() => runFfmpegArgv(binaries.ffmpeg.path, referenceArgv(clipFile, refOut)));
      return timing;
    };

    progress('e2e: warm-up (a 3 s sample through reelay, one reference run)');
    await runReelay(WARMUP_SAMPLE, 'video/x-matroska');
    await runReference();

    const results: EndToEndPair[] = [];
    for (let i = 0; i < pairs; i++) {
      const order = i % 2 === 0 ? 'reference-first' : 'reelay-first';
      const loadAverage = loadavg()[0] ?? 0;
      let reference;
      let reelay;
      if (order === 'reference-first') {
        reference = await runReference();
        reelay = await runReelay(clipFile, 'video/mp4');
      } else {
        reelay = await runReelay(clipFile, 'video/mp4');
        reference = await runReference();
      }
      const pair: EndToEndPair = {
        order,
        referenceSeconds: reference.wallSeconds,
        reelaySeconds: reelay.seconds,
        ratio: reelay.seconds / reference.wallSeconds,
        referenceCpuSeconds: reference.cpuSeconds,
        reelayCpuSeconds: reelay.cpuSeconds,
        cpuRatio: reelay.cpuSeconds / reference.cpuSeconds,
        otherLoadCores: round((reference.otherLoadCores + reelay.otherLoadCores) / 2),
        loadAverage,
        stages: reelay.stages,
      };
      progress(
        `e2e: pair ${i + 1}/${pairs} (${order}): reference ${pair.referenceSeconds.toFixed(2)} s, reelay ${pair.reelaySeconds.toFixed(2)} s, ` +
          `${pair.ratio.toFixed(3)}× wall, ${pair.cpuRatio.toFixed(3)}× CPU, other load ${pair.otherLoadCores} cores`,
      );
      results.push(pair);
    }

    return {
      clip: { seconds: clipSeconds, width: 1920, height: 1080, fps, bytes: clipBytes },
      referenceArgv: referenceArgv('<clip>', '<out>'),
      reelaySettings: { preset: config.ffmpeg.preset, threads: config.ffmpeg.threads, niceness: config.ffmpeg.niceness },
      loadAverageBefore,
      pairs: results,
      referenceSeconds: spread(results.map((p) => p.referenceSeconds)),
      reelaySeconds: spread(results.map((p) => p.reelaySeconds)),
      ratio: spread(results.map((p) => p.ratio)),
      cpuRatio: spread(results.map((p) => p.cpuRatio)),
      otherLoadCores: spread(results.map((p) => p.otherLoadCores)),
    };
  });
}

export function renderEndToEnd(r: EndToEndResult): string {
  const s = (x: Spread) => `${x.median.toFixed(2)} (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
  const median = (pick: (p: EndToEndPair) => number | undefined) => {
    const values = r.pairs.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
    return values.length ? spread(values).median : undefined;
  };
  const timingNames = [...new Set(r.pairs.flatMap((p) => Object.keys(p.stages.workerTimingsMs ?? {})))];
  return [
    `## End to end: \`npm start\`, 202 → ready, vs a hand-written one-pass ffmpeg (${r.clip.seconds} s 1080p${r.clip.fps} clip, ${r.pairs.length} pairs)`,
    '',
    `reelay: x264 ${r.reelaySettings.preset}, -threads ${r.reelaySettings.threads}, nice ${r.reelaySettings.niceness}; reference at nice 0, ffmpeg's own threading. ` +
      `Load average before: ${r.loadAverageBefore.toFixed(2)}. Median (min–max).`,
    '',
    markdownTable(
      ['', 'value'],
      [
        ['reference, s', s(r.referenceSeconds)],
        ['reelay 202 → ready, s', s(r.reelaySeconds)],
        ['ratio per pair, wall', describeSpread(r.ratio, 3)],
        ['ratio per pair, CPU', describeSpread(r.cpuRatio, 3)],
        ['other load, cores', s(r.otherLoadCores)],
      ],
    ),
    '',
    "Where reelay's time goes (medians over the pairs, seconds):",
    '',
    markdownTable(
      ['stage', 's'],
      [
        ['202 → startedAt (queue, pickup, `processing`)', fixed(median((p) => p.stages.pickupSeconds))],
        ['startedAt → `transcoding` (download, probe)', fixed(median((p) => p.stages.prepareSeconds))],
        ...timingNames.map((name) => [`worker: ${name}`, fixed(median((p) => (p.stages.workerTimingsMs?.[name] ?? NaN) / 1000))]),
        ['finishedAt → `video.ready` on SSE', fixed(median((p) => p.stages.notifySeconds))],
      ],
    ),
    '',
  ].join('\n');
}

/** CPU of a process and all its descendants, with what each has reaped. */
function treeCpuSeconds(root: number): number {
  let total = 0;
  const pending = [root];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    total += cpuSecondsWithReapedChildren(pid);
    pending.push(...childPids(pid));
  }
  return total;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, pairs: { type: 'string' }, seconds: { type: 'string' } },
  });
  const binaries = locateFfmpeg(loadConfig().ffmpeg);
  const startedAt = new Date().toISOString();
  const result = await runEndToEnd({
    clipSeconds: Number(values.seconds ?? (values.quick ? 8 : 20)),
    pairs: Number(values.pairs ?? (values.quick ? 3 : 5)),
    binaries,
  });
  process.stdout.write(renderEndToEnd(result));
  // The whole result as JSON after the report, for keeping under bench/results/.
  process.stdout.write(
    `\n<!-- e2e result JSON\n${JSON.stringify({ startedAt, loadAverageAtEnd: loadavg()[0] ?? 0, e2e: result }, null, 2)}\n-->\n`,
  );
  process.exit(0);
}
