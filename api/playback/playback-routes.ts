import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Hono, type Context } from 'hono';
import type { Config } from '../../core/config/index.ts';
import { HttpProblem } from '../../core/errors.ts';
import { appendQueryToUris } from '../../core/hls-playlist.ts';
import type { StatusStore } from '../../core/status-store.ts';
import type { AppEnv } from '../app-env.ts';
import { getOwnedVideo } from '../videos/owned-video.ts';
import { notFound } from '../middleware/problem.ts';
import { deliverObject, isMissing } from './object-delivery.ts';
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

/** File names a presentation holds: a rendition folder and a file, or a file (no `..`, no odd characters). */
const FILE_PATH = /^(?:[A-Za-z0-9_-]{1,32}\/)?[A-Za-z0-9_-]{1,64}\.(m3u8|m4s|mp4|vtt|jpg)$/;

const CONTENT_TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  vtt: 'text/vtt; charset=utf-8',
  jpg: 'image/jpeg',
};

/**
 * Playback of a ready video. Playlists and the storyboard VTT are small text
 * files served by the API with the request's `token` carried onto every URI
 * in them (relative URIs drop the query string, and a player has no other way
 * to send it on). Segments, init segments and the sprite are binary: streamed
 * through the API (Range honoured), or redirected to a presigned URL (REELAY_PLAYBACK_DELIVERY).
 * Every URL is under the video, so one access rule covers the whole presentation.
 */
export function playbackRoutes({ store, s3, mediaBucket, api }: PlaybackRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const delivery = { mode: api.playbackDelivery, presignTtlSeconds: api.presignTtlSeconds };

  const serve = (kind: 'hls' | 'storyboard') => async (c: Context<AppEnv>) => {
    const id = c.req.param('id') ?? '';
    const file = c.req.path.slice(c.req.path.indexOf(`/${kind}/`) + kind.length + 2);
    const doc = await getOwnedVideo(store, id, c.get('tenant'));
    if (doc.status !== 'ready')
      throw new HttpProblem(409, 'Conflict', `video ${doc.id} is ${doc.status}; it can be played once it is ready`);
    const prefix = kind === 'hls' ? doc.hls?.prefix : doc.storyboard?.prefix;
    if (!prefix)
      throw notFound(`video ${doc.id} has no ${kind === 'hls' ? 'HLS presentation' : 'storyboard'}; it was made before reelay wrote them`);
    const ext = FILE_PATH.exec(file)?.[1];
    if (!ext) throw notFound(`no file ${JSON.stringify(file.slice(0, 80))} in the ${kind} of video ${doc.id}`);
    const key = `${prefix}${file}`;
    const contentType = CONTENT_TYPES[ext]!;

    if (ext === 'm3u8' || ext === 'vtt') {
      const text = await readText(s3, mediaBucket, key, () => notFound(`no file ${file} in the ${kind} of video ${doc.id}`));
      const token = c.req.query('token');
      const query = token ? `token=${encodeURIComponent(token)}` : '';
      const body = ext === 'm3u8' ? appendQueryToUris(text, query) : appendQueryToVttImages(text, query);
      return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'private, max-age=60' });
    }
    const missing = `no file ${file} in the ${kind} of video ${doc.id}`;
    return deliverObject(c, s3, { bucket: mediaBucket, key, contentType, missing }, delivery);
  };

  // Named segments rather than a wildcard, so the OpenAPI document can describe each path.
  app.get('/:id/hls/:file', serve('hls'));
  app.get('/:id/hls/:rendition/:file', serve('hls'));
  app.get('/:id/storyboard/:file', serve('storyboard'));
  return app;
}

async function readText(s3: S3Client, bucket: string, key: string, missing: () => Error): Promise<string> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await res.Body!.transformToString('utf-8');
  } catch (err) {
    throw isMissing(err) ? missing() : err;
  }
}

/** `sprite.jpg#xywh=…` → `sprite.jpg?token=…#xywh=…` on the cue lines of a storyboard VTT. */
export function appendQueryToVttImages(text: string, query: string): string {
  if (!query) return text;
  return text.replace(/^([A-Za-z0-9_.-]+\.jpg)(#xywh=)/gm, `$1?${query}$2`);
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const PLAYBACK_OPERATIONS: OperationDocs = {
  'GET /v1/videos/{id}/hls/{file}': {
    summary: "HLS master playlist (`master.m3u8`); URIs inside carry the request's `token`",
    tag: 'videos',
    success: [200, 'the playlist', 'application/vnd.apple.mpegurl'],
    errors: [401, 403, 404, 409],
    query: { token: 'a playback token for this video' },
  },
  'GET /v1/videos/{id}/hls/{rendition}/{file}': {
    summary: 'HLS variant playlist, init segment or media segment of one rendition',
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
