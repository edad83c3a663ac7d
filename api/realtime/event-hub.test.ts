import { describe, expect, it } from 'vitest';
import { makeEvent } from '../../core/events.ts';
import { EventHub, RESUME_MARGIN_MS } from './event-hub.ts';
import { EventInbox } from './event-inbox.ts';

const VIDEO = '01KAAAAAAAAAAAAAAAAAAAAAAA';
const T0 = Date.parse('2026-12-08T00:00:00Z');
const processing = (attempt: number, videoId = VIDEO, { tenant = 'default', at = T0 + attempt * 1000 } = {}) =>
  makeEvent(
    'video.processing',
    { videoId, priority: 'normal', attempt },
    { id: `video.processing:${videoId}:${attempt}`, source: '/t', subject: videoId, tenant, time: new Date(at) },
  );
const ids = (events: { id: string }[] | undefined) => events?.map((e) => e.id);

describe('EventHub', () => {
  it('keeps the last `capacity` events, drops duplicates, and resumes after a known id', () => {
    const hub = new EventHub({ capacity: 3 });
    for (const n of [1, 2, 3, 4]) expect(hub.add(processing(n))).toBe(true);
    expect(hub.add(processing(4))).toBe(false);
    expect(hub.all().map((e) => e.data)).toMatchObject([{ attempt: 2 }, { attempt: 3 }, { attempt: 4 }]);
    expect(ids(hub.since(processing(4).id, 'default'))).toEqual([processing(2).id, processing(3).id]);
    // Evicted, or never seen: the caller must fall back to the whole buffer.
    expect(hub.since(processing(1).id, 'default')).toBeUndefined();
    // An evicted id is no longer a duplicate.
    expect(hub.add(processing(1))).toBe(true);
  });

  it('resumes by publish time, not arrival order: events delivered out of order are neither missed nor cut off', () => {
    const hub = new EventHub({ capacity: 100 });
    const seen = processing(10, VIDEO, { at: T0 });
    const earlier = processing(9, VIDEO, { at: T0 - 2000 }); // published just before: the client may not have it
    const later = processing(11, VIDEO, { at: T0 + 1000 }); // published after, but delivered here first
    const old = processing(1, VIDEO, { at: T0 - RESUME_MARGIN_MS - 5000 }); // long before: the client had it
    const late = processing(2, VIDEO, { at: T0 - RESUME_MARGIN_MS - 5000 }); // long before, but arrived after `seen`
    for (const event of [old, later, earlier, seen, late]) hub.add(event);
    // By position this was [late]: `later` (arrived before `seen`) was lost for good.
    expect(ids(hub.since(seen.id, 'default'))).toEqual([later.id, earlier.id, late.id]);
    // The arrival order does not matter: the same events, in another order, give the same set.
    const reordered = new EventHub({ capacity: 100 });
    for (const event of [earlier, seen, later, old, late]) reordered.add(event);
    expect(new Set(ids(reordered.since(seen.id, 'default')))).toEqual(new Set([later.id, earlier.id, late.id, old.id]));
  });

  it("never tells one tenant whether another tenant's event id is buffered", () => {
    const hub = new EventHub({ capacity: 100 });
    const acme = processing(1, VIDEO, { tenant: 'acme' });
    const globex = processing(2, '01KBBBBBBBBBBBBBBBBBBBBBBB', { tenant: 'globex' });
    hub.add(acme);
    hub.add(globex);
    expect(hub.since(acme.id, 'globex')).toBeUndefined(); // exactly as for an id nobody has
    expect(hub.since('video.processing:gone:1', 'globex')).toBeUndefined();
    expect(ids(hub.since(globex.id, 'globex'))).toEqual([]);
    expect(ids(hub.since(acme.id, 'acme'))).toEqual([]); // and never another tenant's events
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
