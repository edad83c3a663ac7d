import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { callerEventFilter, matchesFilter } from './event-filter.ts';
import { badRequest } from '../middleware/problem.ts';
import type { EventHub } from './event-hub.ts';
import type { OperationDocs } from '../openapi.ts';

/**
 * `GET /v1/notifications?limit=&videoId=&channelId=&type=`: the most recent
 * events, newest first. They come from this API process's own realtime
 * buffer (the same events the notifier logs, received through the API's own
 * subscriber queue): the notifier is a separate process with no HTTP side, so
 * the API keeps its own bounded list rather than asking it.
 */
export function notificationRoutes(hub: EventHub): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', (c) => {
    const limitText = c.req.query('limit') ?? '50';
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > hub.capacity)
      throw badRequest(`limit must be a whole number from 1 to ${hub.capacity}`);
    const filter = callerEventFilter(c.get('tenant'), c.get('token'), c.req.query());
    const items = hub
      .all()
      .filter((event) => matchesFilter(filter, event))
      .reverse()
      .slice(0, limit);
    return c.json({ items, buffered: hub.size, capacity: hub.capacity });
  });
  return app;
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const NOTIFICATION_OPERATIONS: OperationDocs = {
  'GET /v1/notifications': {
    summary: 'The recent events this API instance received',
    tag: 'events',
    success: [200, 'recent events'],
    errors: [401],
  },
};
