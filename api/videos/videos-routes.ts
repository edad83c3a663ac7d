import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Hono } from 'hono';
import { PRIVATE_OUTPUT_CACHE_CONTROL } from '../../core/cache-control.ts';
import type { Config } from '../../core/config.ts';
import { HttpProblem } from '../../core/errors.ts';
import { isVideoId } from '../../core/ids.ts';
import { decodeCursor, type StatusStore, type VideoFilter } from '../../core/status-store.ts';
import type { VideoState } from '../../core/video-status.ts';
import { parseChannelId } from '../live/channel-id.ts';
import type { AppEnv } from '../app-env.ts';
import type { Ingest } from '../uploads/ingest.ts';
import { isVideoMediaType } from '../uploads/media-type.ts';
import { badRequest, notFound } from '../middleware/problem.ts';
import type { Admitted, UploadAdmission } from '../uploads/admission.ts';
import { parsePriority, parseTitle } from '../uploads/upload-fields.ts';
import { receiveUpload, tooLarge } from '../uploads/upload-stream.ts';
import { videoView } from './video-view.ts';
import { getOwnedVideo } from './owned-video.ts';

export interface VideoRoutesDeps {
  ingest: Ingest;
  store: StatusStore;
  s3: S3Client;
  mediaBucket: string;
  api: Config['api'];
  /** Who may upload what, and how it is queued. */
  admission: UploadAdmission;
}

/** Multipart framing around the file: boundaries, part headers and a few short fields. */
const MULTIPART_OVERHEAD = 64 * 1024;

export function videoRoutes({ ingest, store, s3, mediaBucket, api, admission }: VideoRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/', async (c) => {
    const contentType = c.req.header('content-type') ?? '';
    const multipart = /^multipart\/form-data/i.test(contentType);
    if (!multipart && !isVideoMediaType(contentType)) {
      throw new HttpProblem(
        415,
        'Unsupported Media Type',
        `send multipart/form-data with a \`file\` field, or a raw video/* or application/octet-stream body; got ${JSON.stringify(contentType || 'no content-type')}`,
      );
    }
    const uploader = { tenant: c.get('tenant'), token: c.get('token') };
    // The query is known before the body: what it decides (and a spent token) is refused before any byte is read.
    const query = {
      priority: parsePriority(c.req.query('priority')),
      title: parseTitle(c.req.query('title')),
      channelId: c.req.query('channelId'),
    };
    const maxBytes = await admission.precheck(uploader, query);
    const declared = Number(c.req.header('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes + (multipart ? MULTIPART_OVERHEAD : 0)) throw tooLarge(maxBytes);
    if (c.req.header('content-length') === '0') throw badRequest('the request body is empty');

    const { result: stored, fields } = await receiveUpload(c.req.raw, {
      maxBytes,
      minRate: api.uploadMinRate,
      onFile: async (file, info) => {
        // A file part declared as something else (image/png, application/pdf, …) is refused. A part
        // without a Content-Type is text/plain by RFC 7578 and some clients send none, so that passes.
        if (multipart && !isVideoMediaType(info.contentType) && info.contentType !== 'text/plain') {
          file.destroy();
          throw new HttpProblem(
            415,
            'Unsupported Media Type',
            `the \`file\` part must be video/* or application/octet-stream; got ${JSON.stringify(info.contentType.slice(0, 100))}`,
          );
        }
        return ingest.store(file, info);
      },
      discard: (stored) => ingest.discard(stored),
    });
    let admitted: Admitted;
    try {
      // Form fields win over the query.
      admitted = await admission.admit(
        uploader,
        {
          priority: parsePriority(fields.priority) ?? query.priority,
          title: parseTitle(fields.title) ?? query.title,
          channelId: fields.channelId || query.channelId,
          filename: stored.info.filename,
          size: stored.bytes,
        },
        stored.id,
      );
    } catch (err) {
      await ingest.discard(stored);
      throw err;
    }
    const { priority, title, channelId } = admitted;
    const doc = await ingest.enqueue(stored, {
      tenant: uploader.tenant,
      priority,
      ...(title ? { title } : {}),
      ...(channelId ? { channelId } : {}),
    });
    c.header('location', `/v1/videos/${doc.id}`);
    return c.json(videoView(doc), 202);
  });

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
        await ingest.deleteVideo(undefined, mark);
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
    await ingest.deleteVideo(doc, mark);
    return c.body(null, 204);
  });

  app.get('/:id/source', async (c) => {
    const doc = await getOwnedVideo(store, c.req.param('id'), c.get('tenant'));
    if (doc.source.deleted)
      throw notFound(`the source of video ${doc.id} was deleted once its outputs were ready (REELAY_KEEP_SOURCE=false)`);
    if (api.outputDelivery === 'redirect') {
      const url = await getSignedUrl(
        s3,
        new GetObjectCommand({
          Bucket: ingest.rawBucket,
          Key: doc.source.key,
          ResponseContentType: doc.source.contentType,
          ResponseCacheControl: PRIVATE_OUTPUT_CACHE_CONTROL,
        }),
        { expiresIn: api.presignTtlSeconds },
      );
      return c.redirect(url, 302);
    }
    return streamObject(s3, ingest.rawBucket, doc.source.key, c.req.header('range'), { 'content-type': doc.source.contentType });
  });

  app.get('/:id/outputs/:name', async (c) => {
    const doc = await getOwnedVideo(store, c.req.param('id'), c.get('tenant'));
    const name = c.req.param('name');
    // Own properties only: `constructor` or `__proto__` are not outputs.
    const output = Object.hasOwn(doc.outputs, name) ? doc.outputs[name] : undefined;
    if (!output) {
      const skipped = doc.skipped.find((s) => s.name === name);
      if (skipped) throw notFound(`video ${doc.id} has no ${name} output: ${skipped.reason}`);
      // A failed video will never have outputs: not a conflict to wait out, but a 404 saying why.
      if (doc.status === 'failed') {
        throw notFound(
          `video ${doc.id} failed (${doc.error?.code ?? 'failed'}): ${doc.error?.message ?? 'no reason recorded'}; it has no outputs`,
        );
      }
      if (doc.status !== 'ready') {
        throw new HttpProblem(409, 'Conflict', `video ${doc.id} is ${doc.status}; its outputs are available once it is ready`);
      }
      throw notFound(
        `video ${doc.id} has no output named ${JSON.stringify(name.slice(0, 50))}; it has ${Object.keys(doc.outputs).join(', ')}`,
      );
    }
    if (api.outputDelivery === 'redirect') {
      const url = await getSignedUrl(
        s3,
        new GetObjectCommand({ Bucket: mediaBucket, Key: output.key, ResponseCacheControl: PRIVATE_OUTPUT_CACHE_CONTROL }),
        {
          expiresIn: api.presignTtlSeconds,
        },
      );
      return c.redirect(url, 302);
    }
    return streamObject(s3, mediaBucket, output.key, c.req.header('range'), { 'content-type': output.contentType });
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

/**
 * An object's bytes through the API (REELAY_OUTPUT_DELIVERY=stream), honouring a single `Range: bytes=…`
 * (206 + Content-Range, so a player can seek; 416 when it is past the end). Several ranges at once are
 * answered with the whole object (200), which RFC 9110 allows.
 */
export async function streamObject(
  s3: S3Client,
  bucket: string,
  key: string,
  range: string | undefined,
  headers: Record<string, string>,
): Promise<Response> {
  const single = range && /^bytes=(\d+-\d*|-\d+)$/.test(range.trim()) ? range.trim() : undefined;
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(single ? { Range: single } : {}) }));
    return new Response(res.Body!.transformToWebStream(), {
      status: single && res.ContentRange ? 206 : 200,
      headers: {
        ...headers,
        'content-length': String(res.ContentLength),
        'accept-ranges': 'bytes',
        'cache-control': PRIVATE_OUTPUT_CACHE_CONTROL,
        ...(single && res.ContentRange ? { 'content-range': res.ContentRange } : {}),
      },
    });
  } catch (err) {
    if ((err as { name?: string }).name !== 'InvalidRange') throw err;
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    throw new HttpProblem(416, 'Range Not Satisfiable', `${range} is outside the ${head.ContentLength}-byte file`, {
      headers: { 'content-range': `bytes */${head.ContentLength}` },
    });
  }
}
