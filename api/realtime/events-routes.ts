import { Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { HttpProblem } from '../../core/errors.ts';
import type { ReelayEvent } from '../../core/events.ts';
import type { AppEnv } from '../app-env.ts';
import { tooManyAtOnce, type ConcurrencyLimit } from '../middleware/concurrency-limit.ts';
import { callerEventFilter, matchesFilter } from './event-filter.ts';
import type { EventHub } from './event-hub.ts';
import { EventInbox } from './event-inbox.ts';
import type { OperationDocs } from '../openapi.ts';

export interface EventsRoutesDeps {
  hub: EventHub;
  /** Idle streams get a comment line this often, ms (keeps proxies from closing them). */
  heartbeatMs: number;
  /** Open streams per API key (REELAY_MAX_STREAMS_PER_KEY); shared with any other streaming route. */
  streams?: ConcurrencyLimit;
}

/** Events a connection may fall behind by before it is dropped (it resumes with Last-Event-ID). */
const MAX_PENDING = 1000;
/** What browsers wait before reconnecting, ms. */
const RECONNECT_MS = 2000;

/**
 * `GET /v1/events`: Server-Sent Events of every event this API process
 * receives (through its own realtime queue, so from every instance and
 * worker). Each event is `id: <event id>`, `event: <type>`, `data: <the
 * CloudEvent>`. Filters: `videoId`, `channelId`, `type`. With `Last-Event-ID`
 * (header, or `lastEventId` query for clients that cannot set headers) the
 * buffered events published from shortly before it on are replayed first
 * (`EventHub.since`: by time, not arrival order); an id not buffered for the
 * caller's tenant replays the whole buffer. Either may repeat events: ids are
 * stable, so a client drops what it has.
 */
export function eventsRoutes({ hub, heartbeatMs, streams }: EventsRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', (c) => {
    const filter = callerEventFilter(c.get('tenant'), c.get('token'), c.req.query());
    const lastEventId = c.req.header('last-event-id') ?? c.req.query('lastEventId');
    if (hub.isClosed)
      throw new HttpProblem(503, 'Service Unavailable', 'this API process is shutting down; reconnect', {
        headers: { 'retry-after': '1' },
      });
    const release = streams ? streams.tryAcquire(c.get('caller') ?? 'anonymous') : () => undefined;
    if (!release) throw tooManyAtOnce('event streams open', streams!.max, 'REELAY_MAX_STREAMS_PER_KEY');

    const response = streamSSE(c, async (stream) => {
      // Subscribe and take the replay in the same tick: no event can fall between them.
      const inbox = new EventInbox(filter, { maxPending: MAX_PENDING });
      const unsubscribe = hub.subscribe(inbox);
      const resumed = lastEventId ? hub.since(lastEventId, filter.tenant) : [];
      const replay = (resumed ?? hub.all()).filter((event) => matchesFilter(filter, event));
      stream.onAbort(() => inbox.close());
      c.req.raw.signal.addEventListener('abort', () => inbox.close(), { once: true });
      try {
        await stream.write(`retry: ${RECONNECT_MS}\n: connected\n\n`);
        if (lastEventId && !resumed)
          await stream.write(`: Last-Event-ID is no longer buffered; replaying the ${replay.length} buffered events\n\n`);
        for (const event of replay) await send(stream, event);
        for (;;) {
          const next = await inbox.next(heartbeatMs);
          if (next === 'closed') break;
          if (next === 'idle') await stream.write(': heartbeat\n\n');
          else await send(stream, next);
        }
        if (inbox.overflowed) await stream.write(': too far behind; reconnect with Last-Event-ID\n\n');
      } finally {
        unsubscribe();
        release();
      }
    });
    // One stream per connection: when it ends (client gone, or this process stopping) the socket goes too,
    // rather than idling in keep-alive and holding up the server's close.
    response.headers.set('connection', 'close');
    return response;
  });

  return app;
}

function send(stream: SSEStreamingApi, event: ReelayEvent): Promise<void> {
  return stream.writeSSE({ id: event.id, event: event.type, data: JSON.stringify(event) });
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const EVENTS_OPERATIONS: OperationDocs = {
  'GET /v1/events': {
    summary: 'Server-Sent Events of the events this API instance receives',
    tag: 'events',
    success: [200, 'text/event-stream: `id`, `event` (the type), `data` (the CloudEvent)', 'text/event-stream'],
    errors: [400, 401, 429, 503],
    query: {
      videoId: 'only this video',
      channelId: 'only this channel',
      type: 'comma-separated event types',
      token: 'a watch token instead of the Authorization header',
    },
  },
};
