import { execFile } from 'node:child_process';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { TransientJobError } from '../../core/errors.ts';
import { jobError } from '../../core/job-errors.ts';
import type { Logger } from '../../core/logger.ts';
import { planTranscode, type TranscodePlan } from './renditions.ts';
import type { OutputInfo } from '../../core/video-status.ts';
import { buildTranscodeCommand, outputDirs, type FfmpegCommand } from './ffmpeg/command.ts';
import type { FfmpegBinaries } from '../../core/ffmpeg/locate.ts';
import { probeMedia, type ProbeResult } from './ffmpeg/probe/index.ts';
import { filterSupport, hdrTransfer, sourceChain } from './ffmpeg/source-filters.ts';
import { FfmpegInputError, runFfmpeg, type RunOptions } from './ffmpeg/transcode.ts';
import { checkMediaLimits, demuxerFor, type MediaLimits } from './media-limits.ts';
import { measureOutputFile } from './measure-outputs.ts';
import { contentTypeOf } from './upload-outputs.ts';
import { planSourceCaptions, type PlannedCaption } from './source-captions.ts';
import { DEFAULT_MEDIA_LIMITS, type Config } from '../../core/config/index.ts';

const run = promisify(execFile);

/** The plan for a probed source: sizes from the display picture, the frame rate rule, audio or not. */
export function planFromProbe(probe: ProbeResult): TranscodePlan {
  return planTranscode({
    ...probe.video,
    duration: probe.duration,
    startTime: probe.startTime,
    hasAudio: probe.audio !== undefined,
  });
}

export interface TranscodeFileOptions
  extends Pick<Config['ffmpeg'], 'preset' | 'threads'>, Partial<Pick<Config['ffmpeg'], 'firstSegmentSeconds'>> {
  binaries: FfmpegBinaries;
  limits?: MediaLimits;
  logger: Logger;
  signal?: AbortSignal;
  /** Runs one ffmpeg command (the caller adds its watchdog and progress); default: runFfmpeg. */
  runCommand?: (cmd: FfmpegCommand, probe: ProbeResult, plan: TranscodePlan) => Promise<void>;
  /** Maps an output file name to the key reported in its OutputInfo. */
  keyFor?: (file: string) => string;
}

export interface TranscodedFile {
  probe: ProbeResult;
  plan: TranscodePlan;
  outputs: Record<string, OutputInfo>;
  /** Things the user should know (audio dropped, HDR kept as is …), for the status document. */
  notes: string[];
  /** The source's text subtitle tracks ffmpeg wrote as WebVTT (finishSourceCaptions cleans them). */
  captions: PlannedCaption[];
}

/** A way to run the transcode; the first that works wins (see transcodeFile). */
interface Variant {
  tonemap: boolean;
  audio: boolean;
  subtitles?: boolean;
  note?: string;
}

/**
 * Probe → limits → plan → ONE ffmpeg pass → thumbnail check → measured outputs, on local
 * files only (no S3, no queue): the part of a job that depends on the media. When ffmpeg
 * refuses the input (a permanent error) with a part that can be dropped, it is tried again
 * without it: first without HDR tone-mapping, then without the audio track, each with a note.
 */
export async function transcodeFile(source: string, outDir: string, opts: TranscodeFileOptions): Promise<TranscodedFile> {
  const { binaries, logger: log } = opts;
  const probe = await probeMedia(source, { ffprobePath: binaries.ffprobe.path, ...(opts.signal ? { signal: opts.signal } : {}) }).catch(
    (err: unknown) => {
      // The user gets one sentence; ffprobe's own lines stay here, in the worker's log.
      log.warn(
        { code: (err as { code?: string }).code, stderr: ((err as Error).cause as { stderr?: string } | undefined)?.stderr },
        'ffprobe refused the upload',
      );
      throw err;
    },
  );
  checkMediaLimits(probe, opts.limits ?? DEFAULT_MEDIA_LIMITS);
  const inputFormat = demuxerFor(probe.format);
  const support = await filterSupport(binaries.ffmpeg.path);
  const variants: Variant[] = [{ tonemap: true, audio: true }];
  if (hdrTransfer(probe.video.colour))
    variants.push({ tonemap: false, audio: true, note: 'the HDR video could not be tone-mapped; colours may look washed out' });
  if (probe.audio) variants.push({ tonemap: true, audio: false, note: 'the audio track could not be decoded and was left out' });
  const planned = planSourceCaptions(probe.subtitles);
  // A subtitle track ffmpeg refuses must not cost the video: the last try leaves them out.
  if (planned.length > 0)
    variants.push({ tonemap: true, audio: true, subtitles: false, note: 'the subtitle tracks could not be read and were left out' });

  let lastError: unknown;
  for (const variant of variants) {
    const plan = planFromProbe(variant.audio ? probe : { ...probe, audio: undefined });
    const chain = sourceChain(probe, plan, variant.tonemap ? support : { ...support, zscale: false, tonemap: false });
    const notes = [...probe.notes, ...(variant.tonemap ? chain.notes : []), ...(variant.note ? [variant.note] : [])];
    const captions = variant.subtitles === false ? [] : planned;
    const cmd = buildTranscodeCommand(plan, {
      input: source,
      outDir,
      preset: opts.preset,
      threads: opts.threads,
      ...(opts.firstSegmentSeconds ? { firstSegmentSeconds: opts.firstSegmentSeconds } : {}),
      inputFormat,
      video: { index: probe.video.index, filters: chain.filters, inputMatrix: chain.inputMatrix },
      ...(plan.hasAudio && probe.audio ? { audio: { index: probe.audio.index, sampleRate: probe.audio.sampleRate } } : {}),
      subtitles: captions,
    });
    log.info(
      { probe, plan: { renditions: plan.renditions.map((r) => `${r.name}:${r.width}x${r.height}`), frameRate: plan.frameRate }, chain },
      'transcoding',
    );
    // A fresh folder each try: a refused attempt's partial segments must not be stored with the next one's.
    await rm(outDir, { recursive: true, force: true });
    for (const dir of [outDir, ...outputDirs(plan, outDir), ...captions.map((c) => path.dirname(path.join(outDir, c.file)))])
      await mkdir(dir, { recursive: true });
    try {
      await (
        opts.runCommand ??
        ((c) => runFfmpeg(c, { ffmpegPath: binaries.ffmpeg.path, ...(opts.signal ? { signal: opts.signal } : {}) } satisfies RunOptions))
      )(cmd, probe, plan);
    } catch (err) {
      if (!(err instanceof FfmpegInputError)) throw err;
      log.warn({ code: err.code, stderr: err.stderr, argv: err.argv }, 'ffmpeg refused the input');
      lastError = err;
      continue;
    }
    await ensureThumbnail(plan, outDir, binaries.ffmpeg.path, log);
    const outputs = await measureOutputs(plan, outDir, binaries.ffprobe.path, opts.keyFor ?? ((file) => file));
    return { probe, plan, outputs, notes, captions };
  }
  throw lastError;
}

/**
 * The thumbnail is picked from the decoded stream; when ffmpeg wrote none (a clip shorter than
 * its timestamps said), the first frame of the smallest rendition is taken instead: a real
 * frame of the output, never a made-up picture.
 */
async function ensureThumbnail(plan: TranscodePlan, outDir: string, ffmpegPath: string, log: Logger): Promise<void> {
  const thumb = path.join(outDir, plan.thumbnail.file);
  const written = await stat(thumb).then(
    (s) => s.size > 0,
    () => false,
  );
  if (written) return;
  const first = plan.renditions[0];
  if (!first) return;
  log.warn('ffmpeg wrote no thumbnail; taking the first frame of the smallest rendition');
  await run(ffmpegPath, [
    '-v',
    'error',
    '-nostdin',
    '-y',
    '-protocol_whitelist',
    'file',
    '-i',
    `file:${path.join(outDir, first.file)}`,
    '-frames:v',
    '1',
    '-vf',
    `scale=${plan.thumbnail.width}:${plan.thumbnail.height}:out_range=pc,setsar=1,format=yuvj420p`,
    '-q:v',
    '3',
    '-f',
    'image2',
    '-update',
    '1',
    thumb,
  ]).catch((err: Error) => log.warn({ err }, 'could not take a frame from the rendition'));
}

/** Measures every output (measure-outputs.ts): what the status reports is what was written, not what was asked for. */
async function measureOutputs(
  plan: TranscodePlan,
  outDir: string,
  ffprobePath: string,
  keyFor: (file: string) => string,
): Promise<Record<string, OutputInfo>> {
  const entries = [...plan.renditions.map((r) => ({ name: r.name, file: r.file })), { name: 'thumbnail', file: plan.thumbnail.file }];
  const measured = await Promise.all(
    entries.map(async ({ name, file }) => {
      const full = path.join(outDir, file);
      const size = await stat(full).then(
        (s) => s.size,
        () => 0,
      );
      // ffmpeg exited cleanly and still wrote nothing: no frame of this input could be decoded.
      if (size === 0) throw jobError('NOTHING_DECODED');
      const m = await measureOutputFile(full, ffprobePath).catch((err: unknown) => {
        throw new TransientJobError(`could not measure ${file}`, { cause: err });
      });
      const info: OutputInfo = {
        key: keyFor(file),
        contentType: contentTypeOf(file),
        bytes: size,
        width: m.width,
        height: m.height,
        videoCodec: m.videoCodec,
      };
      if (file.endsWith('.mp4') && m.duration !== undefined) info.duration = Math.round(m.duration * 1000) / 1000;
      if (m.audioCodec) info.audioCodec = m.audioCodec;
      return [name, info] as const;
    }),
  );
  return Object.fromEntries(measured);
}
