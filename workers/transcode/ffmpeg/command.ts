import path from 'node:path';
import type { TranscodePlan } from '../../../core/renditions.ts';
import { fileInput, INPUT_HARDENING } from './hardening.ts';

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
}

/**
 * Decodes the source once and feeds every output from one filter graph:
 * `split` fans the decoded frames out to a scaler per rendition and to the
 * thumbnail picker. Rotation is applied by ffmpeg's autorotate before the
 * graph, so the plan's display sizes are what the scalers produce.
 */
export function buildTranscodeCommand(plan: TranscodePlan, { input, outDir, preset, threads, inputFormat }: CommandOptions): FfmpegCommand {
  const branches = plan.renditions.length + 1;
  const labels = plan.renditions.map((_, i) => `s${i}`);
  const graph = [
    `[0:v:0]split=${branches}${labels.map((l) => `[${l}]`).join('')}[st]`,
    ...plan.renditions.map((r, i) => `[s${i}]scale=${r.width}:${r.height}:flags=bicubic,setsar=1,format=yuv420p[v${i}]`),
    // `thumbnail` picks the most representative of the next 50 frames after the seek point.
    `[st]select='gte(t\\,${plan.thumbnail.atSeconds.toFixed(3)})',thumbnail=50,` +
      `scale=${plan.thumbnail.width}:${plan.thumbnail.height},setsar=1,format=yuvj420p[th]`,
  ].join(';');

  const threadOpts = threads > 0 ? ['-threads', String(threads)] : [];
  const outputs = plan.renditions.map((r, i) => ({
    path: path.join(outDir, r.file),
    options: [
      '-map', `[v${i}]`,
      ...(plan.hasAudio ? ['-map', '0:a:0', '-c:a', 'aac', '-b:a', r.audioBitrate, '-ac', '2'] : ['-an']),
      '-c:v', 'libx264', '-preset', preset, '-crf', String(r.crf),
      '-maxrate', r.maxrate, '-bufsize', r.bufsize,
      '-profile:v', 'high', '-pix_fmt', 'yuv420p',
      ...threadOpts,
      // The source's rotation is already applied to the pixels: do not tag the output as rotated too.
      '-metadata:s:v:0', 'rotate=0',
      '-movflags', '+faststart',
      '-sn', '-dn',
      '-f', 'mp4',
    ],
  }));
  outputs.push({
    path: path.join(outDir, plan.thumbnail.file),
    options: ['-map', '[th]', '-frames:v', '1', '-q:v', '3', '-an', '-f', 'image2', '-update', '1'],
  });

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
    '-i', cmd.input,
    '-filter_complex', cmd.complexFilter,
    ...cmd.outputs.flatMap((o) => [...o.options, o.path]),
  ];
}
