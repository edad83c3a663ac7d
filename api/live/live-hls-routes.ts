import type { S3Client } from '@aws-sdk/client-s3';
import { Hono, type Context } from 'hono';
import type { Config } from '../../core/config/index.ts';
import type { LiveChannels } from '../../core/live/channels.ts';
import { livePresentationPrefix } from '../../core/live/live-paths.ts';
import type { AppEnv } from '../app-env.ts';
import { notFound } from '../middleware/problem.ts';
import type { OperationDocs } from '../openapi.ts';
import { servePresentationFile } from '../playback/presentation-file.ts';
import { parseChannelId } from './channel-id.ts';

export interface LiveHlsRoutesDeps {
  channels: LiveChannels;
  s3: S3Client;
  mediaBucket: string;
  api: Pick<Config['api'], 'playbackDelivery' | 'presignTtlSeconds'>;
}

/**
 * The live presentation of a channel whose stream is on reelay's ingest: `/v1/channels/:channelId/live/master.m3u8`
 * and each rendition's `…/live/<rendition>/index.m3u8`, init and media segments, from the session in progress.
 * Served as a ready video's HLS is (the same access rule: an API key, or a `playback` token for the channel as
 * `?token=`, carried onto every URI of the playlists), except that playlists are never cached: they change
 * every segment.
 */
export function liveHlsRoutes({ channels, s3, mediaBucket, api }: LiveHlsRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const files = { s3, mediaBucket, delivery: { mode: api.playbackDelivery, presignTtlSeconds: api.presignTtlSeconds } };

  const serve = async (c: Context<AppEnv>) => {
    const channelId = parseChannelId(c.req.param('channelId') ?? '');
    const file = c.req.path.slice(c.req.path.indexOf('/live/') + '/live/'.length);
    const tenant = c.get('tenant');
    const channel = await channels.get(tenant, channelId);
    const session = channel.session;
    if (channel.status !== 'live' || !session) throw notFound(`channel ${channelId} is not live`);
    if (session.origin !== 'ingest') {
      throw notFound(`channel ${channelId} is live, but its stream is not on reelay's ingest, so reelay has no live presentation of it`);
    }
    return servePresentationFile(c, files, {
      prefix: livePresentationPrefix(tenant, channelId, session.sessionId),
      file,
      of: `the live presentation of channel ${channelId}`,
      playlistCacheControl: 'no-cache',
    });
  };
  app.get('/:channelId/live/:file', serve);
  app.get('/:channelId/live/:rendition/:file', serve);
  return app;
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const LIVE_HLS_OPERATIONS: OperationDocs = {
  'GET /v1/channels/{channelId}/live/{file}': {
    summary: "Live HLS master playlist (`master.m3u8`) of the channel's session in progress; URIs inside carry the request's `token`",
    tag: 'live',
    success: [200, 'the playlist', 'application/vnd.apple.mpegurl'],
    errors: [400, 401, 403, 404],
    query: { token: 'a playback token for this channel' },
  },
  'GET /v1/channels/{channelId}/live/{rendition}/{file}': {
    summary: 'Live media playlist (a sliding window of the DVR length), init segment or media segment of one rendition',
    tag: 'live',
    success: [200, 'the playlist or segment (or 302 to it, REELAY_PLAYBACK_DELIVERY=redirect)', 'video/iso.segment'],
    errors: [400, 401, 403, 404],
    query: { token: 'a playback token for this channel' },
  },
};
