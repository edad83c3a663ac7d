import { makeEvent, type EventPublisher, type ReelayEvent } from '../../core/events.ts';
import { displaySize } from './renditions.ts';
import type { StatusStore } from '../../core/status-store.ts';
import { tenantOf } from '../../core/tenants.ts';
import type { VideoStatus } from '../../core/video-status.ts';

export const EVENT_SOURCE = '/reelay/worker';

/** The final event of a finished video, built from its status document alone (so it can be sent again later). */
export function finalEvent(doc: VideoStatus): ReelayEvent {
  const channel = doc.channelId ? { channelId: doc.channelId } : {};
  if (doc.status === 'failed') {
    return makeEvent(
      'video.failed',
      {
        videoId: doc.id,
        priority: doc.priority,
        code: doc.error?.code ?? 'unknown',
        reason: doc.error?.message ?? 'unknown',
        attempts: doc.attempts,
        ...channel,
      },
      { id: `video.failed:${doc.id}`, source: EVENT_SOURCE, subject: doc.id, tenant: tenantOf(doc) },
    );
  }
  const display = displaySize({
    width: doc.source.width ?? 0,
    height: doc.source.height ?? 0,
    rotation: doc.source.rotation ?? 0,
    sampleAspectRatio: doc.source.sampleAspectRatio ?? 1,
  });
  return makeEvent(
    'video.ready',
    {
      videoId: doc.id,
      priority: doc.priority,
      ...channel,
      source: { duration: doc.source.duration ?? 0, width: display.width, height: display.height },
      outputs: doc.outputs,
      skipped: doc.skipped,
      ...(doc.notes?.length ? { notes: doc.notes } : {}),
    },
    { id: `video.ready:${doc.id}`, source: EVENT_SOURCE, subject: doc.id, tenant: tenantOf(doc) },
  );
}

/** `video.playable` of a video whose HLS master is stored, from its status document alone (stable id: sent once per video). */
export function playableEvent(doc: VideoStatus): ReelayEvent<'video.playable'> {
  return makeEvent(
    'video.playable',
    {
      videoId: doc.id,
      priority: doc.priority,
      ...(doc.channelId ? { channelId: doc.channelId } : {}),
      hls: { url: `/v1/videos/${doc.id}/hls/${doc.hls?.master ?? 'master.m3u8'}` },
      playableAt: doc.playableAt ?? doc.updatedAt,
    },
    { id: `video.playable:${doc.id}`, source: EVENT_SOURCE, subject: doc.id, tenant: tenantOf(doc) },
  );
}

/**
 * Publishes `video.playable` of a video marked playable (StatusStore.markPlayable wrote
 * `playableAnnounced: false` first), then records that it did: a crash in between leaves the flag false,
 * and the next attempt publishes it then, under the same id.
 */
export async function announcePlayable(doc: VideoStatus, deps: { events: EventPublisher; store: StatusStore }): Promise<void> {
  if (!doc.playable || doc.playableAnnounced !== false) return;
  await deps.events.publish(playableEvent(doc));
  await deps.store.update(doc.id, (current) => ({ ...current, playableAnnounced: true }));
}

/**
 * Publishes the final event of a finished video, then records that it did.
 * The status is written before the event (`announced: false`), so a publish
 * that fails is retried by the next delivery of the job instead of being lost.
 */
export async function announce(doc: VideoStatus, deps: { events: EventPublisher; store: StatusStore }): Promise<void> {
  // A subscriber never sees video.ready before video.playable (a crash may have left it unsent).
  if (doc.status === 'ready') await announcePlayable(doc, deps);
  await deps.events.publish(finalEvent(doc));
  await deps.store.update(doc.id, (current) => ({ ...current, announced: true }));
}
