import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { LiveChannels } from '../../../core/live/channels.ts';
import { livePresentationPrefix } from '../../../core/live/live-paths.ts';
import type { Logger } from '../../../core/logger.ts';
import type { VideoQueueDeps } from '../../../core/queue-video.ts';
import type { IngestLease, IngestLeases } from './ingest-lease.ts';
import { queueRecording } from './recording-video.ts';

export interface FinishDeps {
  channels: LiveChannels;
  leases: IngestLeases;
  queue: VideoQueueDeps;
  s3: S3Client;
  mediaBucket: string;
  logger: Logger;
  /** How long the ended presentation stays for players still on its last segments before it is removed, ms. */
  presentationLingerMs: number;
}

/**
 * Ends a session for good, in an order that can be repeated from any step (the sweep repeats what a dead process
 * began): the channel goes offline and `live.ended` is published (once: marked on the session), the recording
 * becomes a video at `high`, the live presentation is removed, and last the lease. Throws when a step fails; the
 * caller tries again (and the lease, still there, lets the sweep do so should this process die).
 */
export async function finishSession(deps: FinishDeps, lease: IngestLease): Promise<void> {
  const { tenant, channelId, sessionId } = lease;
  if (sessionId) {
    await deps.channels.endIngest(tenant, channelId, sessionId);
    if (lease.recordingVideoId) {
      const result = await queueRecording(deps.queue, {
        tenant,
        channelId,
        sessionId,
        videoId: lease.recordingVideoId,
        ...(lease.title ? { title: lease.title } : {}),
      });
      deps.logger.info({ channelId, sessionId, videoId: lease.recordingVideoId, result }, 'live session finished; recording handed on');
    }
    const prefix = livePresentationPrefix(tenant, channelId, sessionId);
    const remove = () =>
      removePrefix(deps.s3, deps.mediaBucket, prefix).catch((err: unknown) =>
        deps.logger.warn({ err, prefix }, 'could not remove an ended live presentation'),
      );
    if (deps.presentationLingerMs > 0) setTimeout(() => void remove(), deps.presentationLingerMs).unref();
    else await remove();
  }
  await deps.leases.release(tenant, channelId);
}

export async function removePrefix(s3: S3Client, bucket: string, prefix: string): Promise<void> {
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1000 }));
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length === 0) return;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    if (!page.IsTruncated) return;
  }
}
