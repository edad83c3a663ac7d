import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../../core/logger.ts';
import { liveFfmpegArgs, RECORDING_DIR, RECORDING_LIST } from './media/live-command.ts';
import type { LiveRendition } from './media/live-ladder.ts';
import type { StreamRefusal } from './media/stream-info.ts';
import { HlsUploader, type ListedSegment } from './publish/hls-uploader.ts';
import type { LivePlaylist } from './publish/live-playlist.ts';
import { RecordingUploader } from './publish/recording-uploader.ts';

export interface LiveRunOptions {
  ffmpegPath: string;
  tmpDir: string;
  renditions: readonly LiveRendition[];
  hasAudio: boolean;
  audioCodecs?: string;
  frameRate: number;
  preset: string;
  s3: S3Client;
  mediaBucket: string;
  rawBucket: string;
  presentationPrefix: string;
  recordingPrefix: string;
  /** The run's number in its session (names its init segments and recording parts). */
  run: number;
  /** Where this run's recording starts on the session's timeline, seconds. */
  recordingOffsetSeconds: number;
  /** The session's playlist of each rendition, carried from run to run. */
  playlists: ReadonlyMap<string, LivePlaylist>;
  logger: Logger;
  /** ffmpeg stopped by itself while the stream went on: it could not decode what came. */
  onFailure: (refusal: StreamRefusal) => void;
  /** A segment became visible to players, with how long after its first frame went into ffmpeg. */
  onListed?: (segment: ListedSegment & { latencyMs?: number }) => void;
}

/** How often the output folders are looked at, ms. */
const POLL_MS = 150;
/** After ffmpeg ended: how long storing what is left may keep retrying, ms. */
const DRAIN_DEADLINE_MS = 120_000;
/** How long ffmpeg may take to finish its last segments once its input ended, ms. */
const FFMPEG_EXIT_MS = 15_000;

/**
 * One connection's worth of a session: an ffmpeg fed the publisher's FLV on stdin, writing every rendition and
 * the recording to a private temporary folder, and the uploaders that move each finished file to S3. `stop` ends
 * ffmpeg's input (it closes its last segments), stores what is left and removes the folder.
 */
export class LiveRun {
  private readonly options: LiveRunOptions;
  private readonly dir: string;
  private readonly ffmpeg: ChildProcess;
  private readonly hls: HlsUploader;
  private readonly recording: RecordingUploader;
  private readonly exited: Promise<number | null>;
  private stderrTail = '';
  private stopping = false;
  private drainDeadline = Number.POSITIVE_INFINITY;
  private readonly loop: Promise<void>;
  /** When each keyframe went into ffmpeg: seconds into the run's media → wall clock ms. */
  private readonly keyframes: { at: number; wall: number }[] = [];
  private firstDts: number | undefined;
  private ffmpegDone = false;

  private constructor(options: LiveRunOptions, dir: string) {
    this.options = options;
    this.dir = dir;
    const args = liveFfmpegArgs({
      renditions: options.renditions,
      hasAudio: options.hasAudio,
      outDir: dir,
      preset: options.preset,
      recordingOffsetSeconds: options.recordingOffsetSeconds,
      threads: 0,
    });
    this.ffmpeg = spawn(options.ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.ffmpeg.stdin!.on('error', () => undefined); // EPIPE when ffmpeg has gone: seen on exit.
    this.ffmpeg.stderr!.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) => {
      this.ffmpeg.on('error', (err) => {
        this.stderrTail += String(err);
        resolve(-1);
      });
      this.ffmpeg.on('exit', (code) => resolve(code));
    });
    void this.exited.then((code) => {
      this.ffmpegDone = true;
      if (this.stopping) return;
      options.logger.error({ code, stderr: this.stderrTail.slice(-1000) }, 'live ffmpeg stopped while the stream went on');
      options.onFailure({ code: 'transcode_failed', reason: 'the live transcode stopped: the stream could not be decoded' });
    });
    const giveUp = () => Date.now() > this.drainDeadline;
    this.hls = new HlsUploader({
      s3: options.s3,
      mediaBucket: options.mediaBucket,
      prefix: options.presentationPrefix,
      run: options.run,
      outputs: options.renditions.map((rendition) => ({
        rendition,
        playlist: options.playlists.get(rendition.name)!,
        localDir: path.join(dir, rendition.name),
      })),
      ...(options.audioCodecs ? { audioCodecs: options.audioCodecs } : {}),
      frameRate: options.frameRate,
      logger: options.logger,
      giveUp,
      onListed: (segment) => options.onListed?.({ ...segment, latencyMs: this.latencyOf(segment) }),
    });
    this.recording = new RecordingUploader({
      s3: options.s3,
      rawBucket: options.rawBucket,
      prefix: options.recordingPrefix,
      run: options.run,
      dir: path.join(dir, RECORDING_DIR),
      list: RECORDING_LIST,
      logger: options.logger,
      giveUp,
    });
    this.loop = this.pollLoop();
  }

  static async start(options: LiveRunOptions): Promise<LiveRun> {
    await mkdir(options.tmpDir, { recursive: true });
    const dir = await mkdtemp(path.join(options.tmpDir, 'reelay-live-'));
    await Promise.all([...options.renditions.map((r) => r.name), RECORDING_DIR].map((name) => mkdir(path.join(dir, name))));
    return new LiveRun(options, dir);
  }

  /** Writes FLV bytes to ffmpeg; false when its pipe is full (pause the publisher until `onDrain`). */
  write(chunk: Buffer): boolean {
    if (this.stopping || !this.ffmpeg.stdin!.writable) return true;
    return this.ffmpeg.stdin!.write(chunk);
  }

  onDrain(listener: () => void): void {
    this.ffmpeg.stdin!.on('drain', listener);
  }

  /** Notes when a keyframe with this FLV timestamp went in, for the latency of the segment it starts. */
  noteKeyframe(dtsMs: number): void {
    this.firstDts ??= dtsMs;
    this.keyframes.push({ at: (dtsMs - this.firstDts) / 1000, wall: Date.now() });
    if (this.keyframes.length > 200) this.keyframes.splice(0, 100);
  }

  private latencyOf(segment: ListedSegment): number | undefined {
    const match = this.keyframes.find((k) => Math.abs(k.at - segment.startInRun) < 0.1);
    return match ? segment.listedAt - match.wall : undefined;
  }

  /** Recording parts stored so far in this run. */
  get recordedParts(): number {
    return this.recording.parts;
  }

  /** Ends the input, lets ffmpeg close its last segments, stores them, removes the folder. Idempotent. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.ffmpeg.stdin!.end();
      const killer = setTimeout(() => this.ffmpeg.kill('SIGKILL'), FFMPEG_EXIT_MS);
      await this.exited;
      clearTimeout(killer);
      this.drainDeadline = Date.now() + DRAIN_DEADLINE_MS;
    }
    await this.loop;
  }

  /** After `stop`: marks the playlists ended, for players still watching the session's last seconds. */
  async endPlaylists(): Promise<void> {
    await this.hls.endPlaylists();
  }

  private async pollLoop(): Promise<void> {
    for (;;) {
      const last = this.stopping && this.ffmpegDone;
      try {
        await this.hls.poll();
        await this.recording.poll();
      } catch (err) {
        // A local file gone missing or unreadable: logged; the next look carries on with what is there.
        this.options.logger.error({ err }, 'moving live files to storage failed');
      }
      if (last) break;
      await sleep(POLL_MS);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
