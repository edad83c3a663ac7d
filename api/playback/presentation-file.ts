import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'hono';
import { appendQueryToUris } from '../../core/hls-playlist.ts';
import type { AppEnv } from '../app-env.ts';
import { notFound } from '../middleware/problem.ts';
import { deliverObject, isMissing, type DeliveryOptions } from './object-delivery.ts';

/** File names a presentation holds: a rendition folder and a file, or a file (no `..`, no odd characters). */
const FILE_PATH = /^(?:[A-Za-z0-9_-]{1,32}\/)?[A-Za-z0-9_-]{1,64}\.(m3u8|m4s|mp4|vtt|jpg)$/;

const CONTENT_TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  vtt: 'text/vtt; charset=utf-8',
  jpg: 'image/jpeg',
};

export interface PresentationStore {
  s3: S3Client;
  mediaBucket: string;
  delivery: DeliveryOptions;
}

/**
 * One file of a stored presentation (a video's HLS or storyboard, a live channel's HLS), by its path below
 * `prefix`. Playlists and the storyboard VTT are small text files served by the API with the request's
 * `token` carried onto every URI in them (relative URIs drop the query string, and a player has no other way
 * to send it on). Segments, init segments and the sprite are binary: streamed (Range honoured) or redirected to
 * a presigned URL. `playlistCacheControl`: a VOD playlist may be kept a minute; a live one changes every segment.
 */
export async function servePresentationFile(
  c: Context<AppEnv>,
  { s3, mediaBucket, delivery }: PresentationStore,
  { prefix, file, of, playlistCacheControl }: { prefix: string; file: string; of: string; playlistCacheControl: string },
): Promise<Response> {
  const ext = FILE_PATH.exec(file)?.[1];
  if (!ext) throw notFound(`no file ${JSON.stringify(file.slice(0, 80))} in ${of}`);
  const key = `${prefix}${file}`;
  const contentType = CONTENT_TYPES[ext]!;
  const missing = `no file ${file} in ${of}`;
  if (ext === 'm3u8' || ext === 'vtt') {
    const text = await readText(s3, mediaBucket, key, () => notFound(missing));
    const token = c.req.query('token');
    const query = token ? `token=${encodeURIComponent(token)}` : '';
    const body = ext === 'm3u8' ? appendQueryToUris(text, query) : appendQueryToVttImages(text, query);
    return c.body(body, 200, { 'content-type': contentType, 'cache-control': playlistCacheControl });
  }
  return deliverObject(c, s3, { bucket: mediaBucket, key, contentType, missing }, delivery);
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
function appendQueryToVttImages(text: string, query: string): string {
  if (!query) return text;
  return text.replace(/^([A-Za-z0-9_.-]+\.jpg)(#xywh=)/gm, `$1?${query}$2`);
}
