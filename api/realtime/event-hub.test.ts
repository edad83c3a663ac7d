import { describe, expect, it } from 'vitest';
import { makeEvent } from '../../core/events.ts';
import { EventHub } from './event-hub.ts';
import { EventInbox } from './event-inbox.ts';

const VIDEO = '01KAAAAAAAAAAAAAAAAAAAAAAA';
const processing = (attempt: number, videoId = VIDEO) =>
  makeEvent(
    'video.processing',
    { videoId, priority: 'normal', attempt },
    { id: `video.processing:${videoId}:${attempt}`, source: '/t', subject: videoId, tenant: 'default' },
  );

describe('EventHub', () => {
  it('keeps the last `capacity` events, drops duplicates, and replays after a known id', () => {
    const hub = new EventHub({ capacity: 3 });
    for (const n of [1, 2, 3, 4]) expect(hub.add(processing(n))).toBe(true);
    expect(hub.add(processing(4))).toBe(false);
    expect(hub.all().map((e) => e.data)).toMatchObject([{ attempt: 2 }, { attempt: 3 }, { attempt: 4 }]);
    expect(hub.after(processing(2).id)?.map((e) => e.id)).toEqual([processing(3).id, processing(4).id]);
    expect(hub.after(processing(4).id)).toEqual([]);
    // Evicted, or never seen: the caller must fall back to the whole buffer.
    expect(hub.after(processing(1).id)).toBeUndefined();
    // An evicted id is no longer a duplicate.
    expect(hub.add(processing(1))).toBe(true);
  });

  it('hands new events to listeners, filtered, and closes them on shutdown', async () => {
    const hub = new EventHub({ capacity: 10 });
    const inbox = new EventInbox({ tenant: 'default', videoId: VIDEO }, { maxPending: 10 });
    const unsubscribe = hub.subscribe(inbox);
    expect(hub.connections).toBe(1);
    hub.add(processing(1, '01KBBBBBBBBBBBBBBBBBBBBBBB'));
    hub.add(processing(1));
    expect(await inbox.next(1000)).toMatchObject({ id: processing(1).id });
    expect(await inbox.next(10)).toBe('idle');
    hub.close();
    expect(await inbox.next(1000)).toBe('closed');
    unsubscribe();
    expect(hub.connections).toBe(0);
    // A connection arriving after shutdown is closed at once.
    const late = new EventInbox({ tenant: 'default' }, { maxPending: 10 });
    hub.subscribe(late);
    expect(late.closed).toBe(true);
  });

  it('drops a connection that falls too far behind instead of buffering without end', () => {
    const inbox = new EventInbox({ tenant: 'default' }, { maxPending: 2 });
    for (const n of [1, 2, 3]) inbox.event(processing(n));
    expect(inbox.overflowed).toBe(true);
    expect(inbox.closed).toBe(true);
  });
});
