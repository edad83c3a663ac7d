import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DeleteObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { avcCodecFromInit, parseMediaPlaylist, writeMasterPlaylist, type Variant } from '../../../core/hls-playlist.ts';
import { LIVE_MASTER_PLAYLIST, LIVE_MEDIA_PLAYLIST } from '../../../core/live/live-paths.ts';
import type { Logger } from '../../../core/logger.ts';
import type { LiveRendition } from '../media/live-ladder.ts';
import { LivePlaylist, segmentName } from './live-playlist.ts';
import { retryUntil } from './s3-retry.ts';

/** A segment as it became visible to players. */
export interface ListedSegment {
  rendition: string;
  sequence: number;
  duration: number;
  /** Seconds from the start of this run's media to the segment's first frame. */
  startInRun: number;
  listedAt: number;
}

interface RenditionState {
  rendition: LiveRendition;
  playlist: LivePlaylist;
  localDir: string;
  /** Local segment number (`<n>.m4s`) last taken; −1 before the first. */
  lastLocal: number;
  mtimeMs: number;
  init?: { key: string; codecs: string };
  /** Bits per second of the segments so far in this run: peak and total, for the master playlist. */
  peakBps: number;
  bytes: number;
  seconds: number;
  /** The next segment follows a gap (this run's first, or segments lost): a discontinuity. */
  discontinuity: boolean;
}

export interface HlsUploaderOptions {
  s3: S3Client;
  mediaBucket: string;
  /** The session's presentation prefix, ending in `/`. */
  prefix: string;
  run: number;
  outputs: { rendition: LiveRendition; playlist: LivePlaylist; localDir: string }[];
  /** RFC 6381 audio codec (`mp4a.40.2`), when the stream has audio. */
  audioCodecs?: string;
  frameRate: number;
  logger: Logger;
  /** Whether to keep retrying a failed write (false once the run is over and its deadline passed). */
  giveUp: () => boolean;
  onListed?: (segment: ListedSegment) => void;
}

/**
 * Moves what ffmpeg wrote for each rendition to the media bucket as it finishes: the run's init segment once,
 * then each segment ffmpeg lists in its local playlist (complete by then: written to a temporary name and
 * renamed), then reelay's own playlist for players, so a playlist never names a segment not yet stored. Local
 * files are removed once stored; segments that slid out of the DVR window are removed from the bucket. The master
 * playlist is written once every rendition has its first segment (codecs read from the init segments, bit rates
 * measured on the segments).
 */
export class HlsUploader {
  private readonly options: HlsUploaderOptions;
  private readonly states: RenditionState[];
  private masterWritten = false;

  constructor(options: HlsUploaderOptions) {
    this.options = options;
    this.states = options.outputs.map(({ rendition, playlist, localDir }) => ({
      rendition,
      playlist,
      localDir,
      lastLocal: -1,
      mtimeMs: 0,
      peakBps: 0,
      bytes: 0,
      seconds: 0,
      discontinuity: true,
    }));
  }

  async poll(): Promise<void> {
    await Promise.all(this.states.map((state) => this.pollRendition(state)));
    if (!this.masterWritten && this.states.every((s) => s.init && s.seconds > 0)) await this.writeMaster();
  }

  /** Marks every playlist ended (`#EXT-X-ENDLIST`) and writes it. */
  async endPlaylists(): Promise<void> {
    await Promise.all(
      this.states.map(async (state) => {
        state.playlist.end();
        await this.put(`${state.rendition.name}/${LIVE_MEDIA_PLAYLIST}`, state.playlist.render(), 'application/vnd.apple.mpegurl');
      }),
    );
  }

  private async pollRendition(state: RenditionState): Promise<void> {
    const local = path.join(state.localDir, LIVE_MEDIA_PLAYLIST);
    const mtimeMs = await stat(local).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    if (mtimeMs === 0 || mtimeMs === state.mtimeMs) return;
    state.mtimeMs = mtimeMs;
    let listed;
    try {
      listed = parseMediaPlaylist(await readFile(local, 'utf8'));
    } catch {
      return; // Replaced while read: the next poll reads it again.
    }
    for (const segment of listed.segments) {
      const n = Number.parseInt(segment.uri, 10);
      if (!Number.isInteger(n) || n <= state.lastLocal) continue;
      if (state.lastLocal >= 0 && n > state.lastLocal + 1) {
        // Segments that left ffmpeg's list before they were stored (storage away too long): a gap for players.
        this.options.logger.warn(
          { rendition: state.rendition.name, missed: n - state.lastLocal - 1 },
          'live segments lost while storage was unreachable',
        );
        for (let m = state.lastLocal + 1; m < n; m++) await rm(path.join(state.localDir, `${m}.m4s`), { force: true });
        state.discontinuity = true;
      }
      if (!(await this.storeSegment(state, segment.uri, segment.duration, listed.map))) return;
      state.lastLocal = n;
    }
  }

  private async storeSegment(state: RenditionState, uri: string, duration: number, map: string | undefined): Promise<boolean> {
    const { rendition } = state;
    if (!state.init) {
      const init = await readFile(path.join(state.localDir, map ?? 'init.mp4'));
      const key = `init-${this.options.run}.mp4`;
      if (!(await this.put(`${rendition.name}/${key}`, init, 'video/mp4'))) return false;
      state.init = { key, codecs: avcCodecFromInit(init) };
    }
    const file = path.join(state.localDir, uri);
    const body = await readFile(file);
    const sequence = state.playlist.next;
    if (!(await this.put(`${rendition.name}/${segmentName(sequence)}`, body, 'video/iso.segment'))) return false;
    const startInRun = state.seconds;
    state.bytes += body.length;
    state.seconds += duration;
    if (duration >= 0.5) state.peakBps = Math.max(state.peakBps, (body.length * 8) / duration);
    const { removed } = state.playlist.add({ duration, map: state.init.key, discontinuity: state.discontinuity });
    state.discontinuity = false;
    await rm(file, { force: true });
    if (!(await this.put(`${rendition.name}/${LIVE_MEDIA_PLAYLIST}`, state.playlist.render(), 'application/vnd.apple.mpegurl')))
      return false;
    this.options.onListed?.({ rendition: rendition.name, sequence, duration, startInRun, listedAt: Date.now() });
    if (removed.length > 0)
      void this.removeOld(
        rendition.name,
        removed.map((e) => segmentName(e.sequence)),
      );
    return true;
  }

  private async writeMaster(): Promise<void> {
    const variants: Variant[] = this.states.map((s) => ({
      uri: `${s.rendition.name}/${LIVE_MEDIA_PLAYLIST}`,
      bandwidth: Math.max(s.peakBps, (s.bytes * 8) / s.seconds),
      averageBandwidth: (s.bytes * 8) / s.seconds,
      width: s.rendition.width,
      height: s.rendition.height,
      codecs: [s.init!.codecs, this.options.audioCodecs].filter(Boolean).join(','),
      frameRate: this.options.frameRate,
    }));
    this.masterWritten = await this.put(LIVE_MASTER_PLAYLIST, writeMasterPlaylist(variants), 'application/vnd.apple.mpegurl');
  }

  private async removeOld(folder: string, names: string[]): Promise<void> {
    const { s3, mediaBucket, prefix, logger } = this.options;
    await s3
      .send(
        new DeleteObjectsCommand({
          Bucket: mediaBucket,
          Delete: { Objects: names.map((n) => ({ Key: `${prefix}${folder}/${n}` })), Quiet: true },
        }),
      )
      .catch((err: unknown) => logger.debug({ err }, 'could not remove live segments that left the window'));
  }

  private put(name: string, body: string | Buffer, contentType: string): Promise<boolean> {
    const { s3, mediaBucket, prefix, logger, giveUp } = this.options;
    const Key = `${prefix}${name}`;
    return retryUntil(
      `live file ${name}`,
      () => s3.send(new PutObjectCommand({ Bucket: mediaBucket, Key, Body: body, ContentType: contentType })),
      {
        until: giveUp,
        logger,
      },
    );
  }
}
