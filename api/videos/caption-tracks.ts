import { randomBytes } from 'node:crypto';
import { DeleteObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PRIVATE_OUTPUT_CACHE_CONTROL } from '../../core/cache-control.ts';
import {
  CAPTION_LIMITS,
  captionFiles,
  presentationMaster,
  subtitlePlaylist,
  uniqueLabel,
  writeVtt,
  type CleanCue,
} from '../../core/captions.ts';
import { HttpProblem } from '../../core/errors.ts';
import { makeEvent, type EventPublisher } from '../../core/events.ts';
import type { StatusStore } from '../../core/status-store.ts';
import { tenantOf } from '../../core/tenants.ts';
import type { CaptionTrack, HlsInfo, VideoStatus } from '../../core/video-status.ts';
import { EVENT_SOURCE } from '../event-source.ts';
import { notFound } from '../middleware/problem.ts';

/**
 * Caption tracks added to and removed from a ready video: the WebVTT and its subtitles playlist are stored
 * below the video's HLS prefix, the status document is changed by a conditional write, then the master is
 * written again from the status (presentationMaster, the worker's function too) and the event published.
 */
export class CaptionTracks {
  private readonly s3: S3Client;
  private readonly mediaBucket: string;
  private readonly store: StatusStore;
  private readonly events: EventPublisher;
  constructor({ s3, mediaBucket, store, events }: { s3: S3Client; mediaBucket: string; store: StatusStore; events: EventPublisher }) {
    this.s3 = s3;
    this.mediaBucket = mediaBucket;
    this.store = store;
    this.events = events;
  }

  /** Stores `cues` as a new track of `video` (ready, with HLS) and returns it. */
  async add(
    video: VideoStatus,
    cues: readonly CleanCue[],
    { language, label }: { language: string; label: string },
  ): Promise<CaptionTrack> {
    const hls = presentationOf(video);
    const id = `u${randomBytes(4).toString('hex')}-${language}`;
    const vtt = writeVtt(cues);
    const files = captionFiles(id);
    await this.put(`${hls.prefix}${files.vtt}`, vtt, 'text/vtt');
    await this.put(
      `${hls.prefix}${files.playlist}`,
      subtitlePlaylist(files.vtt.slice(files.vtt.lastIndexOf('/') + 1), durationOf(video)),
      HLS_TYPE,
    );
    let track: CaptionTrack | undefined;
    const updated = await this.store
      .update(video.id, (doc) => {
        const current = presentationOf(doc);
        const captions = doc.captions ?? [];
        if (captions.length >= CAPTION_LIMITS.maxTracks)
          throw new HttpProblem(
            409,
            'Conflict',
            `video ${doc.id} has ${captions.length} caption tracks; at most ${CAPTION_LIMITS.maxTracks} are kept`,
          );
        track = {
          id,
          language,
          label: uniqueLabel(
            label,
            captions.map((c) => c.label),
          ),
          source: 'uploaded',
          cues: cues.length,
          bytes: Buffer.byteLength(vtt),
          addedAt: new Date().toISOString(),
        };
        // The presentation's counts include the track's WebVTT file and playlist, as the worker counts the source's.
        const hlsCounts = { ...current, files: current.files + 2, bytes: current.bytes + track.bytes };
        return { ...doc, hls: hlsCounts, captions: [...captions, track] };
      })
      .catch(async (err: unknown) => {
        // Refused (too many tracks, no longer ready, deleted): its files must not stay behind.
        await this.deleteFiles(hls, id).catch(() => undefined);
        throw err;
      });
    await this.writeMaster(updated);
    await this.announce(updated, 'video.captions.added', `video.captions.added:${video.id}:${id}`, { caption: publicTrack(track!) });
    return track!;
  }

  /** Removes track `captionId` of `video` (404 when it has none such). */
  async remove(video: VideoStatus, captionId: string): Promise<void> {
    const hls = presentationOf(video);
    if (!video.captions?.some((c) => c.id === captionId))
      throw notFound(`video ${video.id} has no caption track ${JSON.stringify(captionId.slice(0, 80))}`);
    const updated = await this.store.update(video.id, (doc) => {
      const captions = (doc.captions ?? []).filter((c) => c.id !== captionId);
      const gone = doc.captions?.find((c) => c.id === captionId);
      const { captions: _old, ...rest } = doc;
      const hlsCounts = doc.hls && gone ? { ...doc.hls, files: doc.hls.files - 2, bytes: doc.hls.bytes - gone.bytes } : doc.hls;
      return { ...rest, ...(hlsCounts ? { hls: hlsCounts } : {}), ...(captions.length > 0 ? { captions } : {}) };
    });
    await this.writeMaster(updated);
    await this.deleteFiles(hls, captionId);
    await this.announce(updated, 'video.captions.removed', `video.captions.removed:${video.id}:${captionId}`, { captionId });
  }

  /**
   * The master from the status just written. Two changes at once may write their masters in either order, so
   * it is read again after the write and written once more if the tracks moved on meanwhile.
   */
  private async writeMaster(doc: VideoStatus): Promise<void> {
    let current = doc;
    for (let attempt = 0; attempt < 3; attempt++) {
      const hls = presentationOf(current);
      await this.put(`${hls.prefix}${hls.master}`, presentationMaster(hls, current.captions), HLS_TYPE);
      const fresh = await this.store.get(doc.id);
      if (!fresh || sameTracks(fresh.captions, current.captions)) return;
      current = fresh;
    }
  }

  private async deleteFiles(hls: HlsInfo, captionId: string): Promise<void> {
    const files = captionFiles(captionId);
    await this.s3.send(
      new DeleteObjectsCommand({
        Bucket: this.mediaBucket,
        Delete: { Objects: [{ Key: `${hls.prefix}${files.vtt}` }, { Key: `${hls.prefix}${files.playlist}` }], Quiet: true },
      }),
    );
  }

  private async put(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.mediaBucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        CacheControl: PRIVATE_OUTPUT_CACHE_CONTROL,
      }),
    );
  }

  private async announce(
    doc: VideoStatus,
    type: 'video.captions.added' | 'video.captions.removed',
    id: string,
    data: { caption: ReturnType<typeof publicTrack> } | { captionId: string },
  ): Promise<void> {
    const base = { videoId: doc.id, priority: doc.priority, ...(doc.channelId ? { channelId: doc.channelId } : {}) };
    await this.events.publish(
      makeEvent(type, { ...base, ...data } as never, { id, source: EVENT_SOURCE, subject: doc.id, tenant: tenantOf(doc) }),
    );
  }
}

const HLS_TYPE = 'application/vnd.apple.mpegurl';

/** A track as the event carries it (no bookkeeping). */
function publicTrack({ id, language, label, source, cues, bytes }: CaptionTrack) {
  return { id, ...(language ? { language } : {}), label, source, cues, bytes };
}

/** The HLS presentation of a ready video, or the 409 that says why captions cannot be added. */
export function presentationOf(video: VideoStatus): HlsInfo {
  if (video.status !== 'ready')
    throw new HttpProblem(409, 'Conflict', `video ${video.id} is ${video.status}; captions can be added once it is ready`);
  if (!video.hls) throw new HttpProblem(409, 'Conflict', `video ${video.id} was made before reelay wrote HLS; it cannot have captions`);
  return video.hls;
}

export function durationOf(video: VideoStatus): number {
  return video.source.duration ?? Math.max(0, ...video.hls!.variants.map((v) => v.duration));
}

function sameTracks(a: readonly CaptionTrack[] | undefined, b: readonly CaptionTrack[] | undefined): boolean {
  return (a ?? []).map((c) => c.id).join() === (b ?? []).map((c) => c.id).join();
}
