import type { S3Client } from '@aws-sdk/client-s3';
import { Hono, type Context } from 'hono';
import type { Config } from '../../core/config/index.ts';
import { HttpProblem } from '../../core/errors.ts';
import type { StatusStore } from '../../core/status-store.ts';
import type { AppEnv } from '../app-env.ts';
import { getOwnedVideo } from '../videos/owned-video.ts';
import { notFound } from '../middleware/problem.ts';
import { servePresentationFile } from './presentation-file.ts';
import type { OperationDocs } from '../openapi.ts';

export interface PlaybackRoutesDeps {
  store: StatusStore;
  s3: S3Client;
  mediaBucket: string;
  api: Pick<Config['api'], 'playbackDelivery' | 'presignTtlSeconds'>;
}

/**
 * The paths a player fetches: `/v1/videos/:id/hls/…` and `/v1/videos/:id/storyboard/…`.
 * An access check (a `playback` token scoped to :id) applies to exactly these and the outputs route.
 */
export const PLAYBACK_PATH = /^\/v1\/videos\/([^/]+)\/(hls|storyboard)\/(.+)$/;

/**
 * Playback of a ready video, and of the HLS of a video still encoding once it is `playable` (its playlists
 * then grow: served with `no-cache`; segments never change once stored). See servePresentationFile for how
 * each file is served; REELAY_PLAYBACK_DELIVERY chooses streamed or redirected segments. Every URL is under
 * the video, so one access rule covers the whole presentation.
 */
export function playbackRoutes({ store, s3, mediaBucket, api }: PlaybackRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const files = { s3, mediaBucket, delivery: { mode: api.playbackDelivery, presignTtlSeconds: api.presignTtlSeconds } };

  const serve = (kind: 'hls' | 'storyboard') => async (c: Context<AppEnv>) => {
    const id = c.req.param('id') ?? '';
    const file = c.req.path.slice(c.req.path.indexOf(`/${kind}/`) + kind.length + 2);
    const doc = await getOwnedVideo(store, id, c.get('tenant'));
    // Playable while encoding: the HLS presentation from its first segments on; the storyboard once ready.
    const open = doc.status === 'ready' || (kind === 'hls' && doc.playable === true && doc.status !== 'failed');
    if (!open)
      throw new HttpProblem(
        409,
        'Conflict',
        `video ${doc.id} is ${doc.status}; it can be played once it is ${kind === 'hls' ? 'playable (video.playable)' : 'ready'}`,
      );
    const prefix = kind === 'hls' ? doc.hls?.prefix : doc.storyboard?.prefix;
    if (!prefix)
      throw notFound(`video ${doc.id} has no ${kind === 'hls' ? 'HLS presentation' : 'storyboard'}; it was made before reelay wrote them`);
    return servePresentationFile(c, files, {
      prefix,
      file,
      of: `the ${kind} of video ${doc.id}`,
      // A playlist of a video still encoding grows: a cached copy would freeze the player at what it listed.
      playlistCacheControl: doc.status === 'ready' ? 'private, max-age=60' : 'no-cache',
    });
  };

  // Named segments rather than a wildcard, so the OpenAPI document can describe each path.
  app.get('/:id/hls/:file', serve('hls'));
  app.get('/:id/hls/:rendition/:file', serve('hls'));
  app.get('/:id/storyboard/:file', serve('storyboard'));
  return app;
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const PLAYBACK_OPERATIONS: OperationDocs = {
  'GET /v1/videos/{id}/hls/{file}': {
    summary:
      "HLS master playlist (`master.m3u8`); URIs inside carry the request's `token`. Served from `video.playable` on (while `processing`, with `cache-control: no-cache`); 409 before",
    tag: 'videos',
    success: [200, 'the playlist', 'application/vnd.apple.mpegurl'],
    errors: [401, 403, 404, 409],
    query: { token: 'a playback token for this video' },
  },
  'GET /v1/videos/{id}/hls/{rendition}/{file}': {
    summary:
      'HLS variant playlist, init segment or media segment of one rendition; while the video encodes the playlist is an EVENT playlist that grows (`no-cache`), VOD with ENDLIST once ready',
    tag: 'videos',
    success: [200, 'the playlist or segment (or 302 to it, REELAY_PLAYBACK_DELIVERY=redirect)', 'video/iso.segment'],
    errors: [401, 403, 404, 409],
    query: { token: 'a playback token for this video' },
  },
  'GET /v1/videos/{id}/storyboard/{file}': {
    summary: 'Storyboard: `storyboard.vtt` (cues `sprite.jpg#xywh=…`) or `sprite.jpg`',
    tag: 'videos',
    success: [200, 'the WebVTT or the sprite', 'text/vtt'],
    errors: [401, 403, 404, 409],
    query: { token: 'a playback token for this video' },
  },
};
