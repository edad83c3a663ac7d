import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { makeEvent, type EventPublisher } from '../../core/events.ts';
import type { DeletedVideo, StatusStore } from '../../core/status-store.ts';
import type { VideoStatus } from '../../core/video-status.ts';
import { EVENT_SOURCE } from '../event-source.ts';

/**
 * Deletes a video (`DELETE /v1/videos/:id`): a marker first (a job still queued for it is then dropped by
 * the worker that meets it), then the raw upload, everything under `videos/<id>/` and the status
 * document, then publishes `video.deleted` and marks that done. Called again for a marker not yet
 * announced, it publishes again (same event id), so a failed publish is never lost.
 */
export class VideoDeletion {
  private readonly s3: S3Client;
  private readonly rawBucket: string;
  private readonly store: StatusStore;
  private readonly events: EventPublisher;
  constructor({ s3, rawBucket, store, events }: { s3: S3Client; rawBucket: string; store: StatusStore; events: EventPublisher }) {
    this.s3 = s3;
    this.rawBucket = rawBucket;
    this.store = store;
    this.events = events;
  }

  async delete(doc: VideoStatus | undefined, mark: DeletedVideo): Promise<void> {
    if (doc) {
      await this.store.putDeleted(mark);
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.rawBucket, Key: doc.source.key }));
      await this.store.remove(doc);
    }
    const data = { videoId: mark.id, priority: mark.priority, ...(mark.channelId ? { channelId: mark.channelId } : {}) };
    await this.events.publish(
      makeEvent('video.deleted', data, { id: `video.deleted:${mark.id}`, source: EVENT_SOURCE, subject: mark.id, tenant: mark.tenant }),
    );
    await this.store.putDeleted({ ...mark, announced: true });
  }
}
