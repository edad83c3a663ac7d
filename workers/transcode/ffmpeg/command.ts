import path from 'node:path';
import type { TranscodePlan } from '../renditions.ts';
import { fileInput, INPUT_HARDENING } from './hardening.ts';
import {
  alignedKeyframeOptions,
  type FirstSegmentSeconds,
  HLS_DIR,
  storyboardFilter,
  storyboardOutput,
  STORYBOARD_DIR,
  teeMp4AndHls,
} from './playback-outputs.ts';

/** One ffmpeg invocation as data: what the transcode runs and what a benchmark can replay by hand. */
export interface FfmpegCommand {
  inputOptions: string[];
  input: string;
  complexFilter: string;
  outputs: { path: string; options: string[] }[];
}

export interface CommandOptions {
  input: string;
  outDir: string;
  /** x264 preset, e.g. `veryfast`. */
  preset: string;
  /** `-threads` per encoder; 0 = ffmpeg's choice. */
  threads: number;
  /** Demuxer to force (`-f`), as found by the probe; otherwise ffmpeg detects it within the allow-list. */
  inputFormat?: string;
  /** The source's video stream and what it goes through before the split (see sourceChain); default: the first video stream as is. */
  video?: { index: number; filters: string[]; inputMatrix?: 'bt709' | 'bt601' | undefined };
  /** The source's audio stream (absolute index) when the plan has audio; default: the first audio stream. */
  audio?: { index: number; sampleRate: number };
  /**
   * HLS variants and the storyboard (default true). False gives the MP4s and thumbnail alone, as reelay
   * made them before HLS: the benchmark's baseline for what playback adds.
   */
  playback?: boolean;
  /** Length of the first HLS segments (REELAY_FIRST_SEGMENT_SECONDS; default 1): see keyframeExpression. */
  firstSegmentSeconds?: FirstSegmentSeconds;
  /** Text subtitle tracks to write as WebVTT in the same pass: the source's stream index and a file below `outDir`. */
  subtitles?: readonly { index: number; file: string }[];
}

/** Folders ffmpeg writes into below `outDir`, to create before it starts. */
export function outputDirs(plan: TranscodePlan, outDir: string): string[] {
  return [...plan.renditions.map((r) => path.join(outDir, HLS_DIR, r.name)), path.join(outDir, STORYBOARD_DIR)];
}

/** AAC sample rates kept as they are; anything else (8 kHz AMR, 12 kHz, 96 kHz …) becomes 48 kHz. */
const STANDARD_SAMPLE_RATES = new Set([44100, 48000]);

/** Every MP4 is tagged SDR BT.709, limited range: what the filter graph produced. */
const BT709_TAGS = ['-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv'];

/**
 * Decodes the source once and feeds every output from one filter graph: the
 * source chain (deinterlace, constant frame rate, HDR tone-mapping) runs once,
 * then `split` fans the frames out to a scaler per rendition, to the
 * thumbnail picker and to the storyboard tiler. Each rendition is encoded once
 * and its packets go through `tee` to both the MP4 and the HLS variant. Rotation is applied by ffmpeg's autorotate before the
 * graph, so the plan's display sizes are what the scalers produce. To add an
 * output, add a split branch and an entry to `outputs`.
 */
export function buildTranscodeCommand(
  plan: TranscodePlan,
  { input, outDir, preset, threads, inputFormat, video, audio, playback = true, firstSegmentSeconds = 1, subtitles = [] }: CommandOptions,
): FfmpegCommand {
  const labels = [...plan.renditions.map((_, i) => `s${i}`), 'st', ...(playback ? ['sb'] : [])];
  const chain = video?.filters.length ? `${video.filters.join(',')},` : '';
  const inMatrix = video?.inputMatrix ? `:in_color_matrix=${video.inputMatrix}` : '';
  const graph = [
    `[${video ? `0:${video.index}` : '0:v:0'}]${chain}split=${labels.length}${labels.map((l) => `[${l}]`).join('')}`,
    ...plan.renditions.map(
      (r, i) =>
        `[s${i}]scale=${r.width}:${r.height}:flags=bicubic${inMatrix}:out_color_matrix=bt709:out_range=tv,setsar=1,format=yuv420p[v${i}]`,
    ),
    // `thumbnail` picks the most representative of the next 50 frames after the seek point (or of those left).
    `[st]select='gte(t\\,${plan.thumbnail.atSeconds.toFixed(3)})',thumbnail=50,` +
      `scale=${plan.thumbnail.width}:${plan.thumbnail.height}${inMatrix}:out_color_matrix=bt601:out_range=pc,setsar=1,format=yuvj420p[th]`,
    ...(playback ? [storyboardFilter(plan.storyboard, 'sb', 'sbt')] : []),
  ].join(';');

  const threadOpts = threads > 0 ? ['-threads', String(threads)] : [];
  const audioRate = audio && STANDARD_SAMPLE_RATES.has(audio.sampleRate) ? audio.sampleRate : 48000;
  const audioOpts = (bitrate: string) => [
    '-map',
    audio ? `0:${audio.index}` : '0:a:0',
    // Stretch or pad to the timestamps, so audio stays in sync with the constant-rate video.
    '-af',
    'aresample=async=1:first_pts=0',
    '-c:a',
    'aac',
    '-b:a',
    bitrate,
    '-ac',
    '2',
    '-ar',
    String(audioRate),
  ];
  const outputs = plan.renditions.map((r, i) => ({
    path: playback
      ? teeMp4AndHls(path.join(outDir, r.file), path.join(outDir, HLS_DIR, r.name), firstSegmentSeconds)
      : path.join(outDir, r.file),
    options: [
      '-map',
      `[v${i}]`,
      ...(plan.hasAudio ? audioOpts(r.audioBitrate) : ['-an']),
      '-c:v',
      'libx264',
      '-preset',
      preset,
      '-crf',
      String(r.crf),
      '-maxrate',
      r.maxrate,
      '-bufsize',
      r.bufsize,
      '-profile:v',
      'high',
      '-pix_fmt',
      'yuv420p',
      ...BT709_TAGS,
      ...(playback ? alignedKeyframeOptions(firstSegmentSeconds) : []),
      ...threadOpts,
      // The source's rotation is already applied to the pixels: do not tag the output as rotated too.
      '-metadata:s:v:0',
      'rotate=0',
      '-sn',
      '-dn',
      // tee: the MP4 (+faststart) and the fMP4 HLS variant from the same packets.
      ...(playback ? ['-f', 'tee'] : ['-movflags', '+faststart', '-f', 'mp4']),
    ],
  }));
  outputs.push({
    path: path.join(outDir, plan.thumbnail.file),
    options: ['-map', '[th]', '-frames:v', '1', '-q:v', '3', '-an', '-f', 'image2', '-update', '1'],
  });
  if (playback) outputs.push(storyboardOutput(plan.storyboard, outDir, 'sbt'));
  // Subtitle packets need no decode of the picture: one more output each, read by the same demuxer.
  for (const s of subtitles)
    outputs.push({ path: path.join(outDir, s.file), options: ['-map', `0:${s.index}`, '-c:s', 'webvtt', '-f', 'webvtt'] });

  return {
    inputOptions: ['-nostdin', '-y', ...INPUT_HARDENING, ...(inputFormat ? ['-f', inputFormat] : [])],
    input: fileInput(input),
    complexFilter: graph,
    outputs,
  };
}

/** The full argument vector, for logs, error reports and benchmarks. */
export function commandArgv(cmd: FfmpegCommand): string[] {
  return [
    '-hide_banner',
    ...cmd.inputOptions,
    '-i',
    cmd.input,
    '-filter_complex',
    cmd.complexFilter,
    ...cmd.outputs.flatMap((o) => [...o.options, o.path]),
  ];
}
