import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { planTranscode, type TranscodePlan } from '../workers/transcode/renditions.ts';
import { buildTranscodeCommand, commandArgv, outputDirs, type FfmpegCommand } from '../workers/transcode/ffmpeg/command.ts';
import type { FfmpegBinaries } from '../core/ffmpeg/locate.ts';
import { probeMedia } from '../workers/transcode/ffmpeg/probe/index.ts';
import { runHlsOverhead, type HlsOverheadResult } from './hls-overhead.ts';
import { benchStopping, withCleanup } from './lib/cleanup.ts';
import { generateClip, runFfmpegArgv } from './lib/ffmpeg.ts';
import { postVideo } from './lib/http-upload.ts';
import { measure, meanTiming, sumTimings, type Timing } from './lib/measure.ts';
import { naiveCommands } from './lib/naive-commands.ts';
import { startPipelineStack, type PipelineStack } from './lib/pipeline-stack.ts';
import { progress } from './lib/progress.ts';
import { BENCH_API_KEY } from './lib/reelay-setup.ts';
import { makeTempDir } from './lib/temp-dir.ts';

const WARMUP_SAMPLE = fileURLToPath(new URL('../samples/small-480p.mkv', import.meta.url));

export interface TranscodeOverheadOptions {
  clipSeconds: number;
  binaries: FfmpegBinaries;
  /** x264 preset, `-threads` and niceness as the worker's configuration has them; raw and naive runs use them too. */
  preset: string;
  threads: number;
  niceness: number;
}

export interface PipelineStages {
  /** POST /v1/videos until 202: the upload through the API into S3, plus enqueueing. */
  uploadSeconds: number;
  /** queuedAt → startedAt: SQS delivery to the worker and the switch to `processing`. */
  pickupSeconds: number;
  /** startedAt → the worker's `transcoding` log line: download from S3 and ffprobe. */
  downloadProbeSeconds: number | undefined;
  /** `transcoding` → finishedAt: ffmpeg, measuring the outputs with ffprobe, uploading them. */
  transcodeStoreSeconds: number | undefined;
  /** finishedAt → video.ready received: status write, SNS publish, SQS fan-out. */
  notifySeconds: number;
}

export interface TranscodeOverheadResult {
  clip: { seconds: number; width: number; height: number; fps: number; bytes: number; hasAudio: boolean };
  settings: {
    preset: string;
    threads: number;
    niceness: number;
    outputs: { name: string; width: number; height: number }[];
    onePassArgv: string[];
  };
  raw: { runs: Timing[]; mean: Timing };
  pipeline: {
    /** 202 received → video.ready received. cpuSeconds: this process (API, worker, emulator) plus ffmpeg/ffprobe. */
    timing: Timing;
    stages: PipelineStages;
    /** The first job of a fresh worker (the 3 s sample), which pays one-off start-up costs. */
    warmupSeconds: number;
    outputBytes: Record<string, number>;
  };
  naive: { total: Timing; perOutput: { output: string; timing: Timing }[]; outputBytes: Record<string, number> };
  rawOutputBytes: Record<string, number>;
  /** The one-pass command with and without HLS + storyboard, in pairs. */
  hls: HlsOverheadResult;
  ratios: { pipelineToRaw: Ratio; naiveToRaw: Ratio };
}

export interface Ratio {
  wall: number;
  cpu: number;
}

const ratio = (a: Timing, b: Timing): Ratio => ({ wall: a.wallSeconds / b.wallSeconds, cpu: a.cpuSeconds / b.cpuSeconds });

/**
 * What the pipeline costs on top of ffmpeg, and what the one-pass design
 * saves: the same outputs made (a) by the whole pipeline, (b) by the worker's
 * one ffmpeg command run by hand, (c) by one ffmpeg process per output.
 */
export async function runTranscodeOverhead({
  clipSeconds,
  binaries,
  preset,
  threads,
  niceness,
}: TranscodeOverheadOptions): Promise<TranscodeOverheadResult> {
  return withCleanup(async (cleanup) => {
    const workDir = await makeTempDir(cleanup, 'transcode');
    const clipFile = path.join(workDir, 'clip.mp4');
    const fps = 30;

    progress(`transcode: generating a ${clipSeconds} s 1080p${fps} clip with audio`);
    await generateClip(binaries.ffmpeg.path, clipFile, { seconds: clipSeconds, fps });
    const clipBytes = (await stat(clipFile)).size;
    const probe = await probeMedia(clipFile, { ffprobePath: binaries.ffprobe.path });
    const plan = planTranscode({
      ...probe.video,
      duration: probe.duration,
      startTime: probe.startTime,
      hasAudio: probe.audio !== undefined,
    });

    const rawOut = path.join(workDir, 'raw');
    await mkdir(rawOut);
    for (const dir of outputDirs(plan, rawOut)) await mkdir(dir, { recursive: true });
    const onePass = buildTranscodeCommand(plan, { input: clipFile, outDir: rawOut, preset, threads });
    const runRaw = async (n: number) => {
      progress(`transcode: raw one-pass ffmpeg, run ${n}`);
      return (await measure(() => runFfmpegArgv(binaries.ffmpeg.path, commandArgv(onePass), { niceness }))).timing;
    };

    const rawBefore = await runRaw(1);
    const pipeline = await timePipeline(clipFile, { binaries, niceness });
    const rawAfter = await runRaw(2);
    const naiveOut = path.join(workDir, 'naive');
    for (const dir of outputDirs(plan, naiveOut)) await mkdir(dir, { recursive: true });
    const perOutput = await timeNaive(buildTranscodeCommand(plan, { input: clipFile, outDir: naiveOut, preset, threads }), {
      binaries,
      niceness,
    });

    const hls = await runHlsOverhead(plan, { clipFile, workDir, ffmpegPath: binaries.ffmpeg.path, preset, threads, niceness });

    const rawMean = meanTiming([rawBefore, rawAfter]);
    const naiveTotal = sumTimings(perOutput.map((p) => p.timing));
    return {
      clip: {
        seconds: clipSeconds,
        width: probe.video.width,
        height: probe.video.height,
        fps,
        bytes: clipBytes,
        hasAudio: probe.audio !== undefined,
      },
      settings: { preset, threads, niceness, outputs: outputSizes(plan), onePassArgv: commandArgv(onePass) },
      raw: { runs: [rawBefore, rawAfter], mean: rawMean },
      pipeline,
      naive: { total: naiveTotal, perOutput, outputBytes: await fileSizes(naiveOut, plan) },
      rawOutputBytes: await fileSizes(rawOut, plan),
      hls,
      ratios: { pipelineToRaw: ratio(pipeline.timing, rawMean), naiveToRaw: ratio(naiveTotal, rawMean) },
    };
  });
}

/** The whole pipeline in this process: one warm-up job for the cold start, then the timed one. */
function timePipeline(
  clipFile: string,
  { binaries, niceness }: { binaries: FfmpegBinaries; niceness: number },
): Promise<TranscodeOverheadResult['pipeline']> {
  return withCleanup(async (cleanup) => {
    progress('transcode: starting the in-process pipeline (emulator, API, worker)');
    const stack = await startPipelineStack(cleanup, { binaries, niceness });
    progress('transcode: pipeline warm-up job (3 s 480p sample)');
    const warmup = await uploadAndWait(stack, WARMUP_SAMPLE, 'video/x-matroska', { timeoutMs: 120_000 });
    progress('transcode: pipeline run');
    const timed = await uploadAndWait(stack, clipFile, 'video/mp4', { timeoutMs: 20 * 60_000 });
    progress('transcode: stopping the pipeline');
    return { ...timed, warmupSeconds: warmup.timing.wallSeconds };
  });
}

/** One ffmpeg per output, one after another, each decoding the source itself. */
async function timeNaive(
  onePass: FfmpegCommand,
  { binaries, niceness }: { binaries: FfmpegBinaries; niceness: number },
): Promise<{ output: string; timing: Timing }[]> {
  await mkdir(path.dirname(onePass.outputs[0]!.path), { recursive: true });
  const perOutput: { output: string; timing: Timing }[] = [];
  for (const { output, command } of naiveCommands(onePass)) {
    progress(`transcode: naive ffmpeg for ${output} alone`);
    const { timing } = await measure(() => runFfmpegArgv(binaries.ffmpeg.path, commandArgv(command), { niceness }));
    perOutput.push({ output, timing });
  }
  return perOutput;
}

/** Uploads a file through the API and waits for its video.ready; times from the 202 on. */
async function uploadAndWait(
  stack: PipelineStack,
  file: string,
  contentType: string,
  { timeoutMs }: { timeoutMs: number },
): Promise<{ timing: Timing; stages: PipelineStages; outputBytes: Record<string, number> }> {
  const bytes = (await stat(file)).size;
  const upload = await postVideo(stack.apiUrl, createReadStream(file), {
    bytes,
    apiKey: BENCH_API_KEY,
    contentType,
    signal: benchStopping,
  });
  const id = (upload.body as { id?: unknown }).id;
  if (upload.status !== 202 || typeof id !== 'string') {
    throw new Error(`POST /v1/videos answered ${upload.status}: ${JSON.stringify(upload.body)}`);
  }
  const { result: outcome, timing } = await measure(() => stack.waitForReady(id, { timeoutMs }));
  const doc = await stack.status(id);
  const epoch = (iso: string | undefined) => (iso ? Date.parse(iso) : NaN);
  const transcodingAt = stack.marks.at(id, 'transcoding');
  const seconds = (from: number, to: number) => (to - from) / 1000;
  return {
    timing,
    stages: {
      uploadSeconds: upload.ms / 1000,
      pickupSeconds: seconds(epoch(doc.queuedAt), epoch(doc.startedAt)),
      downloadProbeSeconds: transcodingAt === undefined ? undefined : seconds(epoch(doc.startedAt), transcodingAt),
      transcodeStoreSeconds: transcodingAt === undefined ? undefined : seconds(transcodingAt, epoch(doc.finishedAt)),
      notifySeconds: seconds(epoch(doc.finishedAt), outcome.receivedAtEpochMs),
    },
    outputBytes: Object.fromEntries(Object.entries(doc.outputs).map(([name, o]) => [name, o.bytes])),
  };
}

function outputSizes(plan: TranscodePlan): { name: string; width: number; height: number }[] {
  return [
    ...plan.renditions.map((r) => ({ name: r.name, width: r.width, height: r.height })),
    { name: 'thumbnail', width: plan.thumbnail.width, height: plan.thumbnail.height },
  ];
}

/** Sizes of the files an ffmpeg run wrote, by output name; fails when one is missing or empty. */
async function fileSizes(dir: string, plan: TranscodePlan): Promise<Record<string, number>> {
  const entries = [...plan.renditions.map((r) => [r.name, r.file] as const), ['thumbnail', plan.thumbnail.file] as const];
  const sizes: Record<string, number> = {};
  for (const [name, file] of entries) {
    const { size } = await stat(path.join(dir, file));
    if (size === 0) throw new Error(`ffmpeg wrote an empty ${file}`);
    sizes[name] = size;
  }
  return sizes;
}
