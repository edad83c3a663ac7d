import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../core/events.ts';
import { resourceSpec } from './resource-spec.ts';

describe('resource spec', () => {
  const spec = resourceSpec({ prefix: 'reelay', visibilityTimeoutSeconds: 60, maxAttempts: 3 });
  const filterOf = (queue: string) => spec.subscribers.find((s) => s.queue.name === queue)?.eventTypes;

  // The subscription filters are written from the one list of event types, so a new type reaches its subscribers
  // without anyone remembering to add it to a filter (a hand-kept list once missed video.deleted and webhook.disabled).
  it('the webhook dispatcher is subscribed to every event type, the notifier to every one but video.progress', () => {
    expect(filterOf('reelay-webhooks')).toEqual([...EVENT_TYPES]);
    expect(filterOf('reelay-notifier')).toEqual(EVENT_TYPES.filter((type) => type !== 'video.progress'));
  });
});
