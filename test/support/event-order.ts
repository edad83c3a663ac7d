import type { ReelayEvent } from '../../core/events.ts';

const LIFECYCLE = ['video.queued', 'video.processing', 'video.playable', 'video.ready', 'video.failed'];

/**
 * A video's event types in the order they were published. SQS standard
 * queues do not keep order (AWS, LocalStack and moto deliver a `queued`
 * after the `processing` published a few ms later; the embedded emulator
 * happens to keep it), so subscribers must not rely on arrival order: this
 * sorts by the CloudEvent `time` the publisher stamped, with the lifecycle as
 * the tie-break for events stamped in the same millisecond.
 */
export function typesInPublishOrder(events: readonly ReelayEvent[]): string[] {
  return [...events]
    .sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || LIFECYCLE.indexOf(a.type) - LIFECYCLE.indexOf(b.type))
    .map((e) => e.type);
}
