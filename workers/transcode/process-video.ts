import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { DEFAULT_MEDIA_LIMITS } from '../../core/config.ts';
import { PermanentJobError, TransientJobError } from '../../core/errors.ts';
import { makeEvent, type EventPublisher } from '../../core/events.ts';
import { tenantOf } from '../../core/tenants.ts';
import { announce, EVENT_SOURCE } from './announce.ts';
import type { Logger } from '../../core/logger.ts';
import { planTranscode, type TranscodePlan } from '../../core/renditions.ts';
import { outputKey, type StatusStore } from '../../core/status-store.ts';
import type { TranscodeJob } from '../../core/transcode-job.ts';
import type { OutputInfo, SourceInfo, VideoStatus } from '../../core/video-status.ts';
import { buildTranscodeCommand } from './ffmpeg/command.ts';
import { FfmpegWatchdog, transcodeTimeLimitMs } from './ffmpeg-watchdog.ts';
import { checkMediaLimits, demuxerFor, type MediaLimits } from './media-limits.ts';
import type { FfmpegBinaries } from './ffmpeg/locate.ts';
import { probeMedia, type ProbeResult } from './ffmpeg/probe.ts';
import { runFfmpeg } from './ffmpeg/transcode.ts';
import { PRIVATE_OUTPUT_CACHE_CONTROL } from '../../core/cache-control.ts';


export interface TranscodeDeps {
  s3: S3Client;
  store: StatusStore;
  events: EventPublisher;
  rawBucket: string;
  mediaBucket: string;
  binaries: FfmpegBinaries;
  preset: string;
  threads: number;
  niceness: number;
  tmpDir: string;
  /** What an upload may be (duration, pixels, frame rate); defaults to DEFAULT_MEDIA_LIMITS. */
  limits?: MediaLimits;
  /** Stuck-ffmpeg rules: see FfmpegWatchdog. */
  stallTimeoutMs: number;
  jobTimeoutFactor: number;
  jobTimeoutMinMs: number;
  workerId: string;
  logger: Logger;
}

/**
 * `ready`: transcoded and announced. `already-done`: a duplicate delivery, nothing to do.
 * `announced-failed`: the video had failed but its event was not out yet; it is now (the job goes to the DLQ).
 */
export type TranscodeOutcome = 'ready' | 'already-done' | 'announced-failed';

/** Progress is written to the status document at most this often. */
const PROGRESS_WRITE_INTERVAL_MS = 2000;

/**
 * Turns one queued video into its renditions: download, probe, ONE ffmpeg
 * pass, measure the outputs, upload them, mark the video ready and publish
 * `video.ready`. Throws PermanentJobError for input that can never work and
 * TransientJobError (or any other error) for what may work on a retry. The
 * caller owns the SQS message; temp files are always removed here.
 */
export async function transcodeVideo(
  job: TranscodeJob,
  deps: TranscodeDeps,
  {
    signal,
    attempt,
    current: known,
  }: { signal: AbortSignal; attempt: number; /** The status the caller just read, so it is not read twice. */ current?: VideoStatus | undefined },
): Promise<TranscodeOutcome> {
  const log = deps.logger.child({ videoId: job.videoId, attempt });
  const current = known ?? (await deps.store.get(job.videoId));
  if (!current) throw new PermanentJobError('unknown_video', `no status document for video ${job.videoId}`);
  if (current.status === 'ready' || current.status === 'failed') {
    if (current.announced === false) {
      log.info({ status: current.status }, 'finished earlier but not announced: publishing the event now');
      await announce(current, deps);
      return current.status === 'failed' ? 'announced-failed' : 'already-done';
    }
    log.info({ status: current.status }, 'duplicate delivery of a finished job; nothing to do');
    return 'already-done';
  }

  const startedAt = new Date().toISOString();
  const started = await deps.store.transition(job.videoId, 'start', () => ({ attempts: attempt, progress: 0, startedAt, worker: deps.workerId }));
  if (!started) return 'already-done';
  await deps.events.publish(
    makeEvent(
      'video.processing',
      { videoId: job.videoId, priority: job.priority, attempt, ...(started.channelId ? { channelId: started.channelId } : {}) },
      { id: `video.processing:${job.videoId}:${attempt}`, source: EVENT_SOURCE, subject: job.videoId, tenant: tenantOf(started) },
    ),
  );

  await mkdir(deps.tmpDir, { recursive: true });
  const workDir = await mkdtemp(path.join(deps.tmpDir, `reelay-${job.videoId}-`));
  try {
    const sourcePath = path.join(workDir, 'source');
    const outDir = path.join(workDir, 'out');
    await download(deps.s3, deps.rawBucket, job.sourceKey, sourcePath, signal);
    const probe = await probeMedia(sourcePath, { ffprobePath: deps.binaries.ffprobe.path, signal });
    checkMediaLimits(probe, deps.limits ?? DEFAULT_MEDIA_LIMITS);
    const inputFormat = demuxerFor(probe.format);
    const plan = planTranscode({
      ...probe.video,
      duration: probe.duration,
      startTime: probe.startTime,
      hasAudio: probe.audio !== undefined,
    });
    log.info({ probe, renditions: plan.renditions.map((r) => `${r.name}:${r.width}x${r.height}`) }, 'transcoding');

    await mkdir(outDir);
    const progress = new ProgressWriter(deps.store, job.videoId, log);
    const limitMs = transcodeTimeLimitMs(probe.duration, { factor: deps.jobTimeoutFactor, minMs: deps.jobTimeoutMinMs });
    const watchdog = new FfmpegWatchdog({ stallMs: deps.stallTimeoutMs, limitMs, parent: signal });
    try {
      await runFfmpeg(buildTranscodeCommand(plan, { input: sourcePath, outDir, preset: deps.preset, threads: deps.threads, inputFormat }), {
        ffmpegPath: deps.binaries.ffmpeg.path,
        signal: watchdog.signal,
        niceness: deps.niceness,
        durationSeconds: probe.duration,
        onAnyProgress: () => watchdog.progress(),
        onProgress: (percent) => progress.report(percent),
      });
    } catch (err) {
      if (watchdog.reason) throw new TransientJobError(watchdog.reason, { cause: err });
      throw err;
    } finally {
      watchdog.stop();
      await progress.flush();
    }

    const outputs = await measureOutputs(plan, outDir, job.videoId, deps.binaries.ffprobe.path);
    await uploadOutputs(deps.s3, deps.mediaBucket, outDir, outputs, signal);

    const source = sourceFromProbe(current.source, probe);
    const ready = await deps.store.transition(job.videoId, 'finish', () => ({
      source,
      outputs,
      skipped: plan.skipped,
      progress: 100,
      finishedAt: new Date().toISOString(),
      error: undefined,
      lastError: undefined,
      announced: false,
    }));
    if (!ready) {
      log.warn('another worker finished this video first; not announcing it again');
      return 'already-done';
    }
    await announce(ready, deps);
    log.info({ outputs: Object.keys(outputs) }, 'video ready');
    return 'ready';
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function download(s3: S3Client, bucket: string, key: string, file: string, signal: AbortSignal): Promise<void> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    await pipeline(res.Body as Readable, createWriteStream(file), { signal });
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') {
      throw new PermanentJobError('source_missing', `the uploaded file s3://${bucket}/${key} no longer exists`, { cause: err });
    }
    throw new TransientJobError(`could not download the upload: ${(err as Error).message}`, { cause: err });
  }
}

function sourceFromProbe(base: SourceInfo, probe: ProbeResult): SourceInfo {
  const source: SourceInfo = {
    ...base,
    format: probe.format,
    duration: probe.duration,
    width: probe.video.width,
    height: probe.video.height,
    rotation: probe.video.rotation,
    ...(probe.video.sampleAspectRatio !== 1 ? { sampleAspectRatio: probe.video.sampleAspectRatio } : {}),
    frameRate: Math.round(probe.video.frameRate * 1000) / 1000,
    videoCodec: probe.video.codec,
    hasAudio: probe.audio !== undefined,
  };
  if (probe.audio) source.audioCodec = probe.audio.codec;
  return source;
}

const CONTENT_TYPES: Record<string, string> = { '.mp4': 'video/mp4', '.jpg': 'image/jpeg' };

/** Measures every output with ffprobe: what the status reports is what was written, not what was asked for. */
async function measureOutputs(plan: TranscodePlan, outDir: string, videoId: string, ffprobePath: string): Promise<Record<string, OutputInfo>> {
  const entries = [...plan.renditions.map((r) => ({ name: r.name, file: r.file })), { name: 'thumbnail', file: plan.thumbnail.file }];
  const measured = await Promise.all(
    entries.map(async ({ name, file }) => {
      const full = path.join(outDir, file);
      const { size } = await stat(full).catch(() => {
        throw new TransientJobError(`ffmpeg did not write ${file}`);
      });
      if (size === 0) throw new TransientJobError(`ffmpeg wrote an empty ${file}`);
      const probe = await probeMedia(full, { ffprobePath, untrusted: false });
      const info: OutputInfo = {
        key: outputKey(videoId, file),
        contentType: CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
        bytes: size,
        width: probe.video.width,
        height: probe.video.height,
        videoCodec: probe.video.codec,
      };
      if (file.endsWith('.mp4')) info.duration = Math.round(probe.duration * 1000) / 1000;
      if (probe.audio) info.audioCodec = probe.audio.codec;
      return [name, info] as const;
    }),
  );
  return Object.fromEntries(measured);
}

/**
 * Uploads all outputs in parallel; a file's key is derived from the video id, so a retry overwrites.
 * Through lib-storage's multipart Upload: one PutObject stops at 5 GB, and a long 720p rendition can pass that.
 */
async function uploadOutputs(
  s3: S3Client,
  bucket: string,
  outDir: string,
  outputs: Record<string, OutputInfo>,
  signal: AbortSignal,
): Promise<void> {
  const uploads = Object.values(outputs).map(
    (o) =>
      new Upload({
        client: s3,
        params: {
          Bucket: bucket,
          Key: o.key,
          Body: createReadStream(path.join(outDir, path.basename(o.key))),
          ContentType: o.contentType,
          CacheControl: PRIVATE_OUTPUT_CACHE_CONTROL,
        },
        partSize: 16 * 1024 * 1024,
        queueSize: 2,
        leavePartsOnError: false,
      }),
  );
  const abortAll = () => uploads.forEach((u) => void u.abort().catch(() => undefined));
  signal.addEventListener('abort', abortAll, { once: true });
  try {
    await Promise.all(uploads.map((u) => u.done()));
  } catch (err) {
    abortAll();
    throw new TransientJobError(`could not upload the outputs: ${(err as Error).message}`, { cause: err });
  } finally {
    signal.removeEventListener('abort', abortAll);
  }
}

/** Writes progress to the status document at a bounded rate, one write at a time. */
class ProgressWriter {
  private lastWrite = 0;
  private chain: Promise<void> = Promise.resolve();
  private readonly store: StatusStore;
  private readonly videoId: string;
  private readonly log: Logger;
  constructor(store: StatusStore, videoId: string, log: Logger) {
    this.store = store;
    this.videoId = videoId;
    this.log = log;
  }

  report(percent: number): void {
    const now = Date.now();
    if (now - this.lastWrite < PROGRESS_WRITE_INTERVAL_MS) return;
    this.lastWrite = now;
    this.chain = this.chain.then(async () => {
      try {
        await this.store.update(this.videoId, (doc) => ({ ...doc, progress: percent }));
      } catch (err) {
        this.log.warn({ err }, 'could not record progress');
      }
    });
  }

  flush(): Promise<void> {
    return this.chain;
  }
}
