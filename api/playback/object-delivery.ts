import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Context } from 'hono';
import { PRIVATE_OUTPUT_CACHE_CONTROL } from '../../core/cache-control.ts';
import { HttpProblem } from '../../core/errors.ts';
import type { AppEnv } from '../app-env.ts';
import { notFound } from '../middleware/problem.ts';

/** `redirect`: a 302 to a short-lived presigned S3 URL; `stream`: the bytes through the API. */
export type DeliveryMode = 'redirect' | 'stream';

export interface StoredObject {
  bucket: string;
  key: string;
  contentType: string;
  /** The 404's detail when a streamed object is not in the bucket (a presigned URL is not checked). */
  missing: string;
}

export interface DeliveryOptions {
  mode: DeliveryMode;
  presignTtlSeconds: number;
}

/**
 * How the API hands out a stored object — an output, a source, an HLS segment or init segment, a
 * storyboard sprite: a 302 to a presigned URL, or its bytes streamed. Either way the answer is cacheable
 * privately only (the URL carries credentials or a token). A streamed object honours a single
 * `Range: bytes=…` (206 + Content-Range, so a player can seek; 416 when it is past the end); several
 * ranges at once are answered with the whole object (200), which RFC 9110 allows.
 */
export async function deliverObject(
  c: Context<AppEnv>,
  s3: S3Client,
  object: StoredObject,
  { mode, presignTtlSeconds }: DeliveryOptions,
): Promise<Response> {
  const { bucket, key, contentType } = object;
  if (mode === 'redirect') {
    const url = await getSignedUrl(
      s3,
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ResponseContentType: contentType,
        ResponseCacheControl: PRIVATE_OUTPUT_CACHE_CONTROL,
      }),
      { expiresIn: presignTtlSeconds },
    );
    return c.redirect(url, 302);
  }
  const range = c.req.header('range');
  const single = range && /^bytes=(\d+-\d*|-\d+)$/.test(range.trim()) ? range.trim() : undefined;
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(single ? { Range: single } : {}) }));
    const partial = single !== undefined && res.ContentRange !== undefined;
    return c.body(res.Body!.transformToWebStream(), partial ? 206 : 200, {
      'content-type': contentType,
      ...(res.ContentLength !== undefined ? { 'content-length': String(res.ContentLength) } : {}),
      'accept-ranges': 'bytes',
      'cache-control': PRIVATE_OUTPUT_CACHE_CONTROL,
      ...(partial ? { 'content-range': res.ContentRange! } : {}),
    });
  } catch (err) {
    if (isMissing(err)) throw notFound(object.missing);
    if ((err as { name?: string }).name !== 'InvalidRange') throw err;
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    throw new HttpProblem(416, 'Range Not Satisfiable', `${range} is outside the ${head.ContentLength}-byte file`, {
      headers: { 'content-range': `bytes */${head.ContentLength}` },
    });
  }
}

export function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}
