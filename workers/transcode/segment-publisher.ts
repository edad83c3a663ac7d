import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PRIVATE_OUTPUT_CACHE_CONTROL } from '../../core/cache-control.ts';
import { TransientJobError } from '../../core/errors.ts';
import {
  AAC_LC_CODEC,
  avcCodecFromInit,
  parseMediaPlaylist,
  writeMasterPlaylist,
  writeMediaPlaylist,
  type MediaSegment,
} from '../../core/hls-playlist.ts';
import type { Logger } from '../../core/logger.ts';
import { describeS3Failure } from '../../core/s3-multipart.ts';
import { outputKey } from '../../core/status-store.ts';
import type { HlsInfo, HlsVariantInfo } from '../../core/video-status.ts';
import { HLS_DIR, HLS_SEGMENT_SECONDS } from './ffmpeg/playback-outputs.ts';
import type { TranscodePlan } from './renditions.ts';
import { contentTypeOf } from './upload-outputs.ts';

/** How often each variant folder is looked at besides fs.watch, which not every filesystem delivers. */
const POLL_MS = 250;
const PLAYLIST = 'index.m3u8';

export interface SegmentPublisherOptions {
  s3: S3Client;
  bucket: string;
  videoId: string;
  /** The folder ffmpeg writes into; its `hls/<rendition>/` folders are watched. */
  outDir: string;
  plan: TranscodePlan;
  logger: Logger;
  /**
   * Segments each variant's stored playlist already lists (an earlier attempt published them): the
   * stored playlist is rewritten only once this attempt lists at least as many, so it never shrinks.
   */
  storedSegments?: Record<string, number>;
  /** Called once, after `master.m3u8` is stored: every rendition has its first segment. */
  onPlayable: (hls: HlsInfo) => Promise<void>;
}

interface VariantState {
  name: string;
  dir: string;
  /** Segments uploaded, in playlist order; the stored playlist lists exactly these. */
  uploaded: MediaSegment[];
  map?: string;
  initUploaded: boolean;
  storedSegments: number;
  codecs?: string;
}

/**
 * Makes a video playable while ffmpeg still encodes it. ffmpeg writes each
 * HLS variant as an EVENT playlist, renaming it into place after every
 * finished segment (`hls_flags=temp_file`): a segment is finished when the
 * playlist lists it, never before. On each rename (fs.watch, with a poll as a
 * fallback) the new segments are uploaded to their final keys (the init
 * segment with the first), then the variant's EVENT playlist is stored — the
 * worker is its only writer, and it lists only what is stored. Once every
 * rendition has a segment, `master.m3u8` is stored (BANDWIDTH from the rung's
 * caps, as the segments are not measured yet) and `onPlayable` runs. `finish()`
 * drains what ffmpeg wrote last; the caller then rewrites the playlists and
 * the master as VOD with measured bit rates.
 */
export class SegmentPublisher {
  private readonly opts: SegmentPublisherOptions;
  private readonly variants: VariantState[];
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private masterStored = false;
  private lastError: unknown;
  /** Bytes of init and media segments stored. */
  private bytes = 0;

  constructor(opts: SegmentPublisherOptions) {
    this.opts = opts;
    this.variants = opts.plan.renditions.map((r) => ({
      name: r.name,
      dir: path.join(opts.outDir, HLS_DIR, r.name),
      uploaded: [],
      initUploaded: false,
      storedSegments: opts.storedSegments?.[r.name] ?? 0,
    }));
  }

  /** Starts watching the variant folders (they must exist: ffmpeg is about to write into them). */
  start(): void {
    for (const v of this.variants) {
      try {
        const w = watch(v.dir, (_event, file) => {
          if (file === PLAYLIST) this.poke();
        });
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch (err) {
        this.opts.logger.debug({ err, dir: v.dir }, 'fs.watch unavailable; polling only');
      }
    }
    this.schedule();
  }

  /**
   * After ffmpeg exited cleanly: publishes what its last playlists list, stops watching, and returns the
   * files stored (paths below `outDir`), so the final upload does not store them again. Throws
   * TransientJobError when a segment could not be stored.
   */
  async finish(): Promise<Set<string>> {
    this.stop();
    await this.running?.catch(() => undefined);
    this.lastError = undefined;
    await this.scan(true);
    if (this.lastError) throw new TransientJobError(`could not store the HLS segments: ${describeS3Failure(this.lastError)}`);
    const stored = new Set<string>();
    for (const v of this.variants) {
      if (v.initUploaded && v.map) stored.add(`${HLS_DIR}/${v.name}/${v.map}`);
      for (const s of v.uploaded) stored.add(`${HLS_DIR}/${v.name}/${s.uri}`);
    }
    return stored;
  }

  /** Stops watching (ffmpeg failed, or finish() was called); an upload under way completes. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const w of this.watchers.splice(0)) w.close();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.poke();
      this.schedule();
    }, POLL_MS);
    this.timer.unref();
  }

  /** One scan at a time; a poke during a scan runs one more after it. */
  private poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.scan(false);
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
  }

  private async scan(final: boolean): Promise<void> {
    try {
      await Promise.all(this.variants.map((v) => this.publishVariant(v, final)));
      if (!this.masterStored && this.variants.every((v) => v.uploaded.length > 0)) await this.publishMaster();
    } catch (err) {
      // Retried at the next scan; finish() reports it if it persists to the end.
      this.lastError = err;
      this.opts.logger.warn({ err: describeS3Failure(err) }, 'could not publish HLS segments yet');
    }
  }

  private async publishVariant(v: VariantState, final: boolean): Promise<void> {
    const text = await readFile(path.join(v.dir, PLAYLIST), 'utf8').catch(() => undefined);
    if (text === undefined) return;
    const listed = parseMediaPlaylist(text);
    if (!listed.map || listed.segments.length <= v.uploaded.length) return;
    v.map = listed.map;
    const fresh = listed.segments.slice(v.uploaded.length);
    if (!v.initUploaded) {
      const init = await readFile(path.join(v.dir, listed.map));
      v.codecs = avcCodecFromInit(init);
      await this.put(`${v.name}/${listed.map}`, init);
      v.initUploaded = true;
    }
    for (const segment of fresh) {
      await this.put(`${v.name}/${segment.uri}`, await readFile(path.join(v.dir, segment.uri)));
      v.uploaded.push(segment);
    }
    // A rerun never stores a playlist shorter than what players may already have read; its segments
    // replace the earlier attempt's one for one (the same keyframe grid), so what is listed stays playable.
    if (v.uploaded.length < v.storedSegments && !final) return;
    const playlist = writeMediaPlaylist({ type: 'EVENT', map: v.map, segments: v.uploaded, minTargetDuration: HLS_SEGMENT_SECONDS });
    await this.put(`${v.name}/${PLAYLIST}`, Buffer.from(playlist));
    v.storedSegments = Math.max(v.storedSegments, v.uploaded.length);
  }

  private async publishMaster(): Promise<void> {
    const { plan, videoId } = this.opts;
    const frameRate = rational(plan.frameRate);
    const variants: HlsVariantInfo[] = plan.renditions.map((r, i) => {
      const v = this.variants[i]!;
      // Until the segments are measured, the rung's VBV cap (and its audio) is the peak a player must plan for.
      const bandwidth = bitsPerSecond(r.maxrate) + (plan.hasAudio ? bitsPerSecond(r.audioBitrate) : 0);
      return {
        name: r.name,
        playlist: `${r.name}/${PLAYLIST}`,
        width: r.width,
        height: r.height,
        bandwidth,
        codecs: plan.hasAudio ? `${v.codecs},${AAC_LC_CODEC}` : v.codecs!,
        frameRate,
        segments: v.uploaded.length,
        duration: Math.round(v.uploaded.reduce((sum, s) => sum + s.duration, 0) * 1000) / 1000,
      };
    });
    await this.put('master.m3u8', Buffer.from(writeMasterPlaylist(variants.map((v) => ({ ...v, uri: v.playlist })))));
    await this.opts.onPlayable({
      prefix: outputKey(videoId, `${HLS_DIR}/`),
      master: 'master.m3u8',
      segmentSeconds: HLS_SEGMENT_SECONDS,
      variants,
      files: 1 + variants.reduce((n, v) => n + 2 + v.segments, 0),
      bytes: this.bytes,
    });
    // Only now: a failed status write is tried again at the next scan (storing the same master again).
    this.masterStored = true;
  }

  private async put(file: string, body: Buffer): Promise<void> {
    await this.opts.s3.send(
      new PutObjectCommand({
        Bucket: this.opts.bucket,
        Key: outputKey(this.opts.videoId, `${HLS_DIR}/${file}`),
        Body: body,
        ContentType: contentTypeOf(file),
        CacheControl: PRIVATE_OUTPUT_CACHE_CONTROL,
      }),
    );
    if (!file.endsWith('.m3u8')) this.bytes += body.length;
  }
}

/**
 * How many segments each variant's stored playlist lists (0 when there is none): what an earlier attempt
 * published, which a rerun must not shorten.
 */
export async function storedSegmentCounts(
  s3: S3Client,
  bucket: string,
  videoId: string,
  plan: TranscodePlan,
): Promise<Record<string, number>> {
  const counts = await Promise.all(
    plan.renditions.map(async (r) => {
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: outputKey(videoId, `${HLS_DIR}/${r.name}/${PLAYLIST}`) }));
        return [r.name, parseMediaPlaylist(await res.Body!.transformToString('utf-8')).segments.length] as const;
      } catch {
        return [r.name, 0] as const;
      }
    }),
  );
  return Object.fromEntries(counts);
}

/** `1000k` → 1 000 000; `3.5M` → 3 500 000 (ffmpeg's rate suffixes). */
export function bitsPerSecond(rate: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKM]?)$/.exec(rate);
  if (!match) throw new Error(`not a bit rate: ${rate}`);
  const scale = match[2] === 'M' ? 1_000_000 : match[2] ? 1000 : 1;
  return Math.round(Number(match[1]) * scale);
}

/** `30000/1001` → 29.97…; `25` → 25. */
export function rational(text: string): number {
  const [num, den = 1] = text.split('/').map(Number);
  return num && den ? num / den : 0;
}
