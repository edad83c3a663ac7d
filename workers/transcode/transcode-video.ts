import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../core/config/index.ts';
import { TransientJobError } from '../../core/errors.ts';
import { jobError } from '../../core/job-errors.ts';
import { makeEvent, type EventPublisher } from '../../core/events.ts';
import { tenantOf } from '../../core/tenants.ts';
import { isVideoId } from '../../core/ids.ts';
import { announce, announcePlayable, EVENT_SOURCE } from './announce.ts';
import { childLogger, type Logger } from '../../core/logger.ts';
import { outputKey, type StatusStore } from '../../core/status-store.ts';
import type { TranscodeJob } from '../../core/job-queue.ts';
import type { SourceInfo, VideoStatus } from '../../core/video-status.ts';
import { FfmpegWatchdog, transcodeTimeLimitMs } from './ffmpeg-watchdog.ts';
import type { MediaLimits } from './media-limits.ts';
import type { FfmpegBinaries } from '../../core/ffmpeg/locate.ts';
import type { ProbeResult } from './ffmpeg/probe/index.ts';
import { runFfmpeg } from './ffmpeg/transcode.ts';
import { transcodeFile } from './transcode-file.ts';
import type { WorkerMetrics } from './metrics.ts';
import { uploadOutputs } from './upload-outputs.ts';
import { preparePlayback } from './playback-files.ts';
import { SegmentPublisher, storedSegmentCounts } from './segment-publisher.ts';
import { addSourceCaptions } from './source-captions.ts';

/** The settings a transcode runs by, as the configuration defines them (units and defaults there). */
export type TranscodeSettings = Pick<Config['ffmpeg'], 'preset' | 'threads' | 'niceness'> &
  Partial<Pick<Config['ffmpeg'], 'firstSegmentSeconds'>> &
  Pick<Config['worker'], 'tmpDir' | 'stallTimeoutMs' | 'jobTimeoutFactor' | 'jobTimeoutMinMs'> &
  Partial<Pick<Config['worker'], 'keepSource'>> & {
    /** What an upload may be (duration, pixels, frame rate); defaults to DEFAULT_MEDIA_LIMITS. */
    limits?: MediaLimits;
  };

export interface TranscodeDeps extends TranscodeSettings {
  s3: S3Client;
  store: StatusStore;
  events: EventPublisher;
  rawBucket: string;
  mediaBucket: string;
  binaries: FfmpegBinaries;
  workerId: string;
  /** ffmpeg seconds and bytes in/out for Prometheus; none when absent. */
  metrics?: WorkerMetrics;
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
    stalls = 0,
    current: known,
  }: {
    signal: AbortSignal;
    attempt: number;
    /** Earlier runs of this attempt that were interrupted (their worker died): recorded, and part of event ids. */
    stalls?: number;
    /** The status the caller just read, so it is not read twice. */ current?: VideoStatus | undefined;
  },
): Promise<TranscodeOutcome> {
  // Defence in depth: the id becomes part of a temp path and of S3 keys.
  if (!isVideoId(job.videoId)) throw jobError('BAD_VIDEO_ID');
  const log = childLogger(deps.logger, { videoId: job.videoId, attempt });
  const current = known ?? (await deps.store.get(job.videoId));
  if (!current) throw jobError('NO_STATUS', job.videoId);
  if (current.status === 'ready' || current.status === 'failed') {
    if (current.announced === false) {
      log.info({ status: current.status }, 'finished earlier but not announced: publishing the event now');
      await announce(current, deps);
      return current.status === 'failed' ? 'announced-failed' : 'already-done';
    }
    log.info({ status: current.status }, 'duplicate delivery of a finished job; nothing to do');
    return 'already-done';
  }

  // A rerun of an interrupted attempt publishes its events again under ids of their own.
  const run = stalls > 0 ? `${attempt}.${stalls}` : String(attempt);
  const startedAt = new Date().toISOString();
  const started = await deps.store.transition(job.videoId, 'start', () => ({
    attempts: attempt,
    ...(stalls > 0 ? { stalls } : {}),
    progress: 0,
    startedAt,
    worker: deps.workerId,
  }));
  if (!started) return 'already-done';
  // Published while the source downloads (its round trip need not delay the job); awaited before ffmpeg starts.
  const processing = deps.events.publish(
    makeEvent(
      'video.processing',
      { videoId: job.videoId, priority: job.priority, attempt, ...(started.channelId ? { channelId: started.channelId } : {}) },
      { id: `video.processing:${job.videoId}:${run}`, source: EVENT_SOURCE, subject: job.videoId, tenant: tenantOf(started) },
    ),
  );
  processing.catch(() => undefined);

  await mkdir(deps.tmpDir, { recursive: true });
  const workDir = await mkdtemp(path.join(deps.tmpDir, `reelay-${job.videoId}-`));
  try {
    const sourcePath = path.join(workDir, 'source');
    const outDir = path.join(workDir, 'out');
    const clock = new StageClock();
    await download(deps.s3, deps.rawBucket, job.sourceKey, sourcePath, signal);
    clock.lap('download');
    deps.metrics?.bytes.inc({ direction: 'in' }, (await stat(sourcePath)).size);
    const progress = new ProgressWriter(deps.store, job.videoId, log, (percent) =>
      deps.events.publish(
        makeEvent(
          'video.progress',
          {
            videoId: job.videoId,
            priority: job.priority,
            attempt,
            percent,
            ...(started.channelId ? { channelId: started.channelId } : {}),
          },
          {
            id: `video.progress:${job.videoId}:${run}:${percent}`,
            source: EVENT_SOURCE,
            subject: job.videoId,
            tenant: tenantOf(started),
          },
        ),
      ),
    );
    // HLS files stored while ffmpeg ran (the segment publisher's), not uploaded again at the end.
    let published: ReadonlySet<string> = new Set();
    const {
      probe,
      plan,
      outputs,
      notes,
      captions: plannedCaptions,
    } = await transcodeFile(sourcePath, outDir, {
      binaries: deps.binaries,
      preset: deps.preset,
      threads: deps.threads,
      ...(deps.firstSegmentSeconds ? { firstSegmentSeconds: deps.firstSegmentSeconds } : {}),
      ...(deps.limits ? { limits: deps.limits } : {}),
      logger: log,
      signal,
      keyFor: (file) => outputKey(job.videoId, file),
      runCommand: async (cmd, probe, plan) => {
        await processing;
        clock.lap('probe');
        const limitMs = transcodeTimeLimitMs(probe.duration, { factor: deps.jobTimeoutFactor, minMs: deps.jobTimeoutMinMs });
        const watchdog = new FfmpegWatchdog({ stallMs: deps.stallTimeoutMs, limitMs, parent: signal });
        // Playable while encoding: segments are stored as ffmpeg lists them, the master once each rendition has one.
        const publisher = new SegmentPublisher({
          s3: deps.s3,
          bucket: deps.mediaBucket,
          videoId: job.videoId,
          outDir,
          plan,
          logger: log,
          // A rerun after an attempt that made the video playable never shortens the playlists players read.
          ...(current.playable ? { storedSegments: await storedSegmentCounts(deps.s3, deps.mediaBucket, job.videoId, plan) } : {}),
          onPlayable: async (hls) => {
            const marked = await deps.store.markPlayable(job.videoId, hls);
            if (marked) {
              clock.lap('playable');
              log.info({ timingsMs: clock.laps }, 'video playable');
            }
            // Published once: a rerun finds the flag set and publishes only if the earlier attempt could not.
            await announcePlayable(marked ?? (await deps.store.get(job.videoId)) ?? current, deps);
          },
        });
        publisher.start();
        const ffmpegStarted = performance.now();
        try {
          await runFfmpeg(cmd, {
            ffmpegPath: deps.binaries.ffmpeg.path,
            signal: watchdog.signal,
            niceness: deps.niceness,
            durationSeconds: probe.duration,
            onAnyProgress: () => watchdog.progress(),
            onProgress: (percent) => progress.report(percent),
          });
          published = await publisher.finish();
        } catch (err) {
          publisher.stop();
          if (watchdog.reason) throw new TransientJobError(watchdog.reason, { cause: err });
          throw err;
        } finally {
          watchdog.stop();
          deps.metrics?.ffmpegSeconds.inc((performance.now() - ffmpegStarted) / 1000);
          await progress.flush();
          clock.lap('ffmpeg');
        }
      },
    });
    // The HLS master and the storyboard's WebVTT, written beside what ffmpeg wrote: uploaded with the rest.
    const playback = await preparePlayback(plan, { outDir, videoId: job.videoId, duration: probe.duration });
    const captions = await addSourceCaptions(plannedCaptions, playback.hls, { outDir, duration: probe.duration });
    clock.lap('measure');
    await processing;
    await uploadOutputs({ s3: deps.s3, bucket: deps.mediaBucket, outDir, videoId: job.videoId, signal, skip: published });
    if (deps.metrics) deps.metrics.bytes.inc({ direction: 'out' }, await directoryBytes(outDir));
    clock.lap('upload');

    const source = sourceFromProbe(current.source, probe);
    const ready = await deps.store.transition(job.videoId, 'finish', (doc) => ({
      source,
      outputs,
      hls: playback.hls,
      playable: true,
      playableAt: doc.playableAt ?? new Date().toISOString(),
      // Never marked while it encoded (a status write failed): video.playable goes out just before video.ready.
      playableAnnounced: doc.playableAnnounced ?? false,
      ...(playback.storyboard ? { storyboard: playback.storyboard } : {}),
      ...(captions.captions.length > 0 ? { captions: captions.captions } : {}),
      skipped: plan.skipped,
      ...(notes.length + playback.notes.length + captions.notes.length > 0
        ? { notes: [...notes, ...playback.notes, ...captions.notes] }
        : {}),
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
    clock.lap('statusWrite');
    await announce(ready, deps);
    clock.lap('announce');
    if (deps.keepSource === false) {
      // The outputs are stored and announced: the original is no longer needed (GET …/source then says so).
      await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.rawBucket, Key: current.source.key })).catch((err: unknown) => {
        log.warn({ err, key: current.source.key }, 'could not delete the source after the outputs were made');
      });
      await deps.store.update(job.videoId, (doc) => ({ ...doc, source: { ...doc.source, deleted: true } })).catch(() => {});
    }
    log.info({ outputs: Object.keys(outputs), timingsMs: clock.laps }, 'video ready');
    return 'ready';
  } finally {
    // However the job ends, its video.processing is out first (a subscriber never sees it after ready or failed).
    await processing.catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  }
}

async function download(s3: S3Client, bucket: string, key: string, file: string, signal: AbortSignal): Promise<void> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    await pipeline(res.Body as Readable, createWriteStream(file), { signal });
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') {
      throw jobError('SOURCE_MISSING', { bucket, key }).causedBy(err);
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
  if (probe.video.colour.transfer === 'smpte2084' || probe.video.colour.transfer === 'arib-std-b67')
    source.colorTransfer = probe.video.colour.transfer;
  if (['tt', 'bb', 'tb', 'bt'].includes(probe.video.fieldOrder)) source.interlaced = true;
  return source;
}

/** Writes progress to the status document at a bounded rate, one write at a time. */
class ProgressWriter {
  private lastWrite = 0;
  private chain: Promise<void> = Promise.resolve();
  private readonly store: StatusStore;
  private readonly videoId: string;
  private readonly log: Logger;
  private readonly announce: (percent: number) => Promise<void>;
  constructor(store: StatusStore, videoId: string, log: Logger, announce: (percent: number) => Promise<void>) {
    this.store = store;
    this.videoId = videoId;
    this.log = log;
    this.announce = announce;
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
      // Best effort: a lost progress event only makes a progress bar jump.
      await this.announce(Math.round(percent)).catch((err: unknown) => this.log.debug({ err }, 'could not publish video.progress'));
    });
  }

  flush(): Promise<void> {
    return this.chain;
  }
}

/** How long each stage of a job took, ms: logged with `video ready` so a slow stage shows in the worker's log (and the bench). */
class StageClock {
  readonly laps: Record<string, number> = {};
  private last = performance.now();

  lap(stage: string): void {
    const now = performance.now();
    this.laps[stage] = (this.laps[stage] ?? 0) + Math.round(now - this.last);
    this.last = now;
  }
}

/** Bytes of every file under `dir` (the outputs just uploaded: renditions, thumbnail, HLS, storyboard). */
async function directoryBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const sizes = await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => (await stat(path.join(e.parentPath, e.name))).size));
  return sizes.reduce((sum, size) => sum + size, 0);
}
