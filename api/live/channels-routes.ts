import { Hono } from 'hono';
import { z } from 'zod';
import { clientText, MAX_TITLE_LENGTH } from '../../core/client-text.ts';
import type { AppEnv } from '../app-env.ts';
import { parseChannelId } from './channel-id.ts';
import { jsonBodyLimit, readJsonBody } from '../middleware/json-body.ts';
import type { LiveChannels } from './live-channels.ts';
import type { OperationDocs } from '../openapi.ts';

export const startBody = z.strictObject({
  title: clientText(MAX_TITLE_LENGTH).optional(),
});

/**
 * `/v1/channels/:channelId/live`: POST starts a live session (optional JSON
 * body `{"title"}`; 201, or 200 with the session in progress when the channel
 * is already live), DELETE ends it (200, also when it was not live), GET shows
 * the state.
 */
export function channelRoutes(channels: LiveChannels): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

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
  'GET /v1/channels/{channelId}/live': {
    summary: "A channel's live session",
    tag: 'live',
    success: [200, 'live or offline'],
    errors: [400, 401],
  },
  'POST /v1/channels/{channelId}/live': {
    summary: 'Start a live session (publishes live.started)',
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
