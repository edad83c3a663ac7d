import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { TranscodePlan } from '../workers/transcode/renditions.ts';
import { buildTranscodeCommand, commandArgv, outputDirs } from '../workers/transcode/ffmpeg/command.ts';
import { runFfmpegArgv } from './lib/ffmpeg.ts';
import { measure, round, type Timing } from './lib/measure.ts';
import { progress } from './lib/progress.ts';

export interface HlsOverheadResult {
  pairs: { with: Timing; without: Timing }[];
  /** Median over the pairs of (with ÷ without), and the lowest and highest pair. */
  wallRatio: { median: number; min: number; max: number };
  cpuRatio: { median: number; min: number; max: number };
  /** What the playback outputs add to the bucket: HLS files (playlists, init, segments) and the storyboard. */
  hlsFiles: number;
  hlsBytes: number;
  storyboardBytes: number;
  mp4Bytes: number;
}

/**
 * What HLS and the storyboard add to the ffmpeg pass: the worker's command
 * with them (tee to MP4 + fMP4 HLS, aligned keyframes, the storyboard branch)
 * and without (the MP4s and thumbnail alone, as before HLS), run in pairs in
 * alternating order so that drifting machine load hits both alike.
 */
export async function runHlsOverhead(
  plan: TranscodePlan,
  {
    clipFile,
    workDir,
    ffmpegPath,
    preset,
    threads,
    niceness,
    pairs = 3,
  }: {
    clipFile: string;
    workDir: string;
    ffmpegPath: string;
    preset: string;
    threads: number;
    niceness: number;
    pairs?: number;
  },
): Promise<HlsOverheadResult> {
  const run = async (playback: boolean, label: string): Promise<Timing> => {
    const outDir = path.join(workDir, `hls-ab-${playback ? 'with' : 'without'}`);
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    if (playback) for (const dir of outputDirs(plan, outDir)) await mkdir(dir, { recursive: true });
    const cmd = buildTranscodeCommand(plan, { input: clipFile, outDir, preset, threads, playback });
    progress(`transcode: HLS overhead, ${label}`);
    return (await measure(() => runFfmpegArgv(ffmpegPath, commandArgv(cmd), { niceness }))).timing;
  };
  const results: HlsOverheadResult['pairs'] = [];
  for (let i = 0; i < pairs; i++) {
    const first = i % 2 === 0;
    const a = await run(first, `pair ${i + 1}, ${first ? 'with' : 'without'} playback outputs`);
    const b = await run(!first, `pair ${i + 1}, ${first ? 'without' : 'with'} playback outputs`);
    results.push(first ? { with: a, without: b } : { with: b, without: a });
  }
  const withDir = path.join(workDir, 'hls-ab-with');
  const hls = await treeSize(path.join(withDir, 'hls'));
  const storyboard = await treeSize(path.join(withDir, 'storyboard'));
  const mp4 = await Promise.all(plan.renditions.map(async (r) => (await stat(path.join(withDir, r.file))).size));
  return {
    pairs: results,
    wallRatio: spread(results.map((p) => p.with.wallSeconds / p.without.wallSeconds)),
    cpuRatio: spread(results.map((p) => p.with.cpuSeconds / p.without.cpuSeconds)),
    hlsFiles: hls.files,
    hlsBytes: hls.bytes,
    storyboardBytes: storyboard.bytes,
    mp4Bytes: mp4.reduce((a, b) => a + b, 0),
  };
}

function spread(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median: round4(median), min: round4(sorted[0]!), max: round4(sorted.at(-1)!) };
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

async function treeSize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes: round(bytes) };
}
