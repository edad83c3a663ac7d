import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { makeEvent, type EventPublisher } from '../../core/events.ts';
import type { DeletedVideo, StatusStore } from '../../core/status-store.ts';
import type { VideoStatus } from '../../core/video-status.ts';
import { EVENT_SOURCE } from '../event-source.ts';

/** Something that keeps bytes about a video elsewhere, and forgets them (idempotent). */
export interface VideoTraces {
  forgetVideo(videoId: string): Promise<void>;
}

/**
 * Deletes a video (`DELETE /v1/videos/:id`): a marker first (a job still queued for it is then dropped by
 * the worker that meets it), then the raw upload, the traces its upload left (`traces`), everything under
 * `videos/<id>/` and the status document (the marker, without user text, is all that stays), then publishes `video.deleted` and marks that done. Called again for a marker not yet
 * announced, it publishes again (same event id), so a failed publish is never lost.
 */
export class VideoDeletion {
  private readonly s3: S3Client;
  private readonly rawBucket: string;
  private readonly store: StatusStore;
  private readonly events: EventPublisher;
  private readonly traces: readonly VideoTraces[];
  constructor({
    s3,
    rawBucket,
    store,
    events,
    traces = [],
  }: {
    s3: S3Client;
    rawBucket: string;
    store: StatusStore;
    events: EventPublisher;
    /** What else holds bytes about a video (the upload doors' bookkeeping), removed before its status document. */
    traces?: readonly VideoTraces[];
  }) {
    this.s3 = s3;
    this.rawBucket = rawBucket;
    this.store = store;
    this.events = events;
    this.traces = traces;
  }

  async delete(doc: VideoStatus | undefined, mark: DeletedVideo): Promise<void> {
    if (doc) {
      await this.store.putDeleted(mark);
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.rawBucket, Key: doc.source.key }));
      for (const traces of this.traces) await traces.forgetVideo(mark.id);
      await this.store.remove(doc);
    }
    const data = { videoId: mark.id, priority: mark.priority, ...(mark.channelId ? { channelId: mark.channelId } : {}) };
    await this.events.publish(
      makeEvent('video.deleted', data, { id: `video.deleted:${mark.id}`, source: EVENT_SOURCE, subject: mark.id, tenant: mark.tenant }),
    );
    await this.store.putDeleted({ ...mark, announced: true });
  }
}
