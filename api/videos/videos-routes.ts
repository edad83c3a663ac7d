import { Hono } from 'hono';
import { HttpProblem } from '../../core/errors.ts';
import { isVideoId } from '../../core/ids.ts';
import { decodeCursor, type StatusStore, type VideoFilter } from '../../core/status-store.ts';
import type { VideoState } from '../../core/video-status.ts';
import type { AppEnv } from '../app-env.ts';
import { parseChannelId } from '../live/channel-id.ts';
import { badRequest, notFound } from '../middleware/problem.ts';
import { parsePriority } from './video-fields.ts';
import { getOwnedVideo } from './owned-video.ts';
import type { VideoDeletion } from './video-deletion.ts';
import { videoView } from './video-view.ts';
import type { OperationDocs } from '../openapi.ts';

export interface VideoRoutesDeps {
  store: StatusStore;
  deletion: VideoDeletion;
}

/** `GET /v1/videos` (newest first, filtered, paginated), `GET /v1/videos/:id` and `DELETE /v1/videos/:id`. */
export function videoRoutes({ store, deletion }: VideoRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', async (c) => {
    const limitText = c.req.query('limit') ?? '20';
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > 100) throw badRequest('limit must be a whole number from 1 to 100');
    const cursor = c.req.query('cursor');
    const tenant = c.get('tenant');
    if (cursor !== undefined && decodeCursor(cursor, tenant) === undefined) throw badRequest('cursor is not one this API returned');
    const { filter, query } = parseListFilter((name) => c.req.query(name));
    const page = await store.list({ tenant, limit, filter, ...(cursor ? { cursor } : {}) });
    return c.json({
      items: page.items.map(videoView),
      ...(page.nextCursor
        ? {
            nextCursor: page.nextCursor,
            next: `/v1/videos?${new URLSearchParams({ ...query, limit: String(limit), cursor: page.nextCursor })}`,
          }
        : {}),
    });
  });

  app.get('/:id', async (c) => {
    const doc = await getOwnedVideo(store, c.req.param('id'), c.get('tenant'));
    return c.json(videoView(doc));
  });

  app.delete('/:id', async (c) => {
    const id = c.req.param('id');
    const tenant = c.get('tenant');
    const doc = isVideoId(id) ? await store.getOwned(id, tenant) : undefined;
    if (!doc) {
      // Deleted, but `video.deleted` did not go out: finish that, as the first DELETE would have.
      const mark = isVideoId(id) ? await store.deletedVideo(id) : undefined;
      if (mark && mark.tenant === tenant && !mark.announced) {
        await deletion.delete(undefined, mark);
        return c.body(null, 204);
      }
      throw notFound(`no video with id ${JSON.stringify(id.slice(0, 50))}`);
    }
    if (doc.status === 'processing') {
      throw new HttpProblem(409, 'Conflict', `video ${id} is being transcoded; delete it once it is ready or failed`);
    }
    const mark = {
      id,
      tenant,
      priority: doc.priority,
      ...(doc.channelId ? { channelId: doc.channelId } : {}),
      deletedAt: new Date().toISOString(),
      announced: false,
    };
    await deletion.delete(doc, mark);
    return c.body(null, 204);
  });

  return app;
}

const VIDEO_STATES: readonly VideoState[] = ['queued', 'processing', 'ready', 'failed'];

/** `?status=&priority=&channelId=&createdAfter=&createdBefore=` of GET /v1/videos, or a 400 naming the bad one. */
export function parseListFilter(query: (name: string) => string | undefined): { filter: VideoFilter; query: Record<string, string> } {
  const filter: VideoFilter = {};
  const given: Record<string, string> = {};
  const status = query('status');
  if (status !== undefined) {
    if (!(VIDEO_STATES as readonly string[]).includes(status))
      throw badRequest(`status must be one of ${VIDEO_STATES.join(', ')}; got ${JSON.stringify(status.slice(0, 50))}`);
    filter.status = status as VideoState;
    given.status = status;
  }
  const priority = parsePriority(query('priority'));
  if (priority) filter.priority = given.priority = priority;
  const channelId = query('channelId');
  if (channelId !== undefined) filter.channelId = given.channelId = parseChannelId(channelId);
  for (const name of ['createdAfter', 'createdBefore'] as const) {
    const value = query(name);
    if (value === undefined) continue;
    const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(ms))
      throw badRequest(
        `${name} must be an ISO 8601 date or time, e.g. 2026-11-30 or 2026-11-30T12:00:00Z; got ${JSON.stringify(value.slice(0, 50))}`,
      );
    filter[name] = ms;
    given[name] = value;
  }
  return { filter, query: given };
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const VIDEO_OPERATIONS: OperationDocs = {
  'GET /v1/videos': {
    summary: 'List videos, newest first',
    tag: 'videos',
    success: [200, '{items, nextCursor?}'],
    errors: [400, 401],
    query: { limit: '1-100 (default 20)', cursor: 'from a previous page' },
  },
  'GET /v1/videos/{id}': { summary: "A video's status and outputs", tag: 'videos', success: [200, 'the video'], errors: [401, 404] },
  'DELETE /v1/videos/{id}': {
    summary: 'Delete a video, its upload and outputs',
    tag: 'videos',
    success: [204, 'deleted'],
    errors: [401, 404, 409],
  },
};
