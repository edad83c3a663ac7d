import { Hono } from 'hono';
import { z } from 'zod';
import { clientText, MAX_TITLE_LENGTH } from '../../core/client-text.ts';
import { isChannelId } from '../../core/ids.ts';
import type { ChannelView, ChannelWithKey, LiveChannels } from '../../core/live/channels.ts';
import type { AppEnv } from '../app-env.ts';
import { parseChannelId } from './channel-id.ts';
import { jsonBodyLimit, readJsonBody } from '../middleware/json-body.ts';
import type { OperationDocs } from '../openapi.ts';

export const startBody = z.strictObject({
  title: clientText(MAX_TITLE_LENGTH).optional(),
});

export const createBody = z.strictObject({
  /** The channel id to use (letters, digits, `_`, `-`); made up when absent. */
  id: z.string().refine(isChannelId, 'use letters, digits, "_" and "-", at most 64 characters').optional(),
  /** Shown as the title of its live sessions. */
  name: clientText(MAX_TITLE_LENGTH).optional(),
});

export interface ChannelRoutesDeps {
  channels: LiveChannels;
  /** REELAY_LIVE_RTMP_URL: the publish URL without the key. */
  rtmpUrl: string;
}

/**
 * `/v1/channels`: POST makes a channel with a stream key (shown in that answer only), GET lists the caller's
 * channels, `POST /:channelId/stream-key` replaces the key. `/:channelId/live`: POST starts a live session by
 * hand (optional JSON body `{"title"}`; 201, or 200 with the session in progress when the channel is already
 * live), DELETE ends it (200, also when it was not live), GET shows the state — for sources reelay does not
 * ingest; a stream on the RTMP ingest starts and ends its sessions itself.
 */
export function channelRoutes({ channels, rtmpUrl }: ChannelRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const withKey = ({ channel, streamKey }: ChannelWithKey) => ({
    id: channel.channelId,
    ...channel,
    streamKey,
    ingest: { rtmp: rtmpUrl },
  });

  app.post('/', jsonBodyLimit(), async (c) => {
    const { id, name } = await readJsonBody(c, createBody, { optional: true });
    const created = await channels.create(c.get('tenant'), { ...(id ? { channelId: id } : {}), ...(name ? { name } : {}) });
    c.header('location', `/v1/channels/${created.channel.channelId}/live`);
    // The stream key is a secret shown once: nothing on the way may keep a copy.
    c.header('cache-control', 'no-store');
    return c.json(withKey(created), 201);
  });

  app.get('/', async (c) => {
    const items: (ChannelView & { id: string })[] = (await channels.list(c.get('tenant'))).map((ch) => ({ id: ch.channelId, ...ch }));
    return c.json({ items });
  });

  app.post('/:channelId/stream-key', async (c) => {
    const channelId = parseChannelId(c.req.param('channelId'));
    c.header('cache-control', 'no-store');
    return c.json(withKey(await channels.rotateStreamKey(c.get('tenant'), channelId)));
  });

  app.post('/:channelId/live', jsonBodyLimit(), async (c) => {
    const channelId = parseChannelId(c.req.param('channelId'));
    const { title } = await readJsonBody(c, startBody, { optional: true });
    const { channel, started } = await channels.start(c.get('tenant'), channelId, title ? { title } : {});
    if (started) c.header('location', channel.links.self);
    return c.json(channel, started ? 201 : 200);
  });

  app.delete('/:channelId/live', async (c) => {
    const channelId = parseChannelId(c.req.param('channelId'));
    const { channel } = await channels.end(c.get('tenant'), channelId);
    return c.json(channel, 200);
  });

  app.get('/:channelId/live', async (c) => {
    const channelId = parseChannelId(c.req.param('channelId'));
    return c.json(await channels.get(c.get('tenant'), channelId));
  });

  return app;
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const CHANNEL_OPERATIONS: OperationDocs = {
  'POST /v1/channels': {
    summary:
      'Make a channel with a stream key; the answer is the only place the key is shown (`ingest.rtmp` + "/" + `streamKey` is the publish URL)',
    tag: 'live',
    success: [201, 'the channel, its stream key and ingest URL'],
    errors: [400, 401, 409, 429],
    body: { schema: createBody },
  },
  'GET /v1/channels': {
    summary: "The caller's channels (live or not)",
    tag: 'live',
    success: [200, '{"items": [channel, …]}'],
    errors: [401],
  },
  'POST /v1/channels/{channelId}/stream-key': {
    summary: 'Replace the stream key (the old one stops working at once; a stream already going on is not cut)',
    tag: 'live',
    success: [200, 'the channel and its new stream key'],
    errors: [400, 401, 404, 429],
  },
  'GET /v1/channels/{channelId}/live': {
    summary: "A channel's live session",
    tag: 'live',
    success: [200, 'live or offline'],
    errors: [400, 401],
  },
  'POST /v1/channels/{channelId}/live': {
    summary: 'Start a live session by hand (publishes live.started)',
    tag: 'live',
    success: [201, 'started (200: already live)'],
    errors: [400, 401, 429],
    body: { schema: startBody },
  },
  'DELETE /v1/channels/{channelId}/live': {
    summary: 'End the live session (publishes live.ended)',
    tag: 'live',
    success: [200, 'ended'],
    errors: [400, 401],
  },
};
