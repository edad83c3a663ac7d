import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { HttpProblem } from '../../core/errors.ts';
import { isVideoId } from '../../core/ids.ts';
import { PRIORITY_TIERS } from '../../core/resources.ts';
import type { AppEnv } from '../app-env.ts';
import type { DirectUpload, DirectUploads } from './direct-uploads.ts';
import { jsonBodyLimit, MAX_JSON_BODY_BYTES, readJsonBody } from '../middleware/json-body.ts';
import { isVideoMediaType, mediaType } from './media-type.ts';
import { notFound } from '../middleware/problem.ts';
import { outOfScope } from '../auth/tokens.ts';
import { videoView } from '../videos/video-view.ts';
import type { UploadAdmission } from './admission.ts';
import { parseTitle } from '../videos/video-fields.ts';
import type { OperationDocs } from '../openapi.ts';

export interface DirectUploadRoutesDeps {
  uploads: DirectUploads;
  admission: UploadAdmission;
}

export const createBody = z.strictObject({
  filename: z.string().max(1024).optional(),
  size: z.number().int().min(1, 'the file is empty'),
  contentType: z.string().refine(isVideoMediaType, 'must be video/* or application/octet-stream'),
  priority: z.enum(PRIORITY_TIERS).optional(),
  title: z.string().optional(),
  channelId: z.string().optional(),
});

export const completeBody = z.strictObject({
  parts: z
    .array(z.strictObject({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(200) }))
    .min(1)
    .max(10_000),
});

/** The completion body lists up to 10,000 parts: larger than other JSON bodies. */
const COMPLETE_BODY_BYTES = Math.max(MAX_JSON_BODY_BYTES, 10_000 * 100);

/**
 * `/v1/uploads`: direct-to-S3 multipart uploads. `POST /` starts one and
 * returns a presigned URL per part; the client PUTs the parts to S3 and calls
 * `POST /:id/complete` with their ETags (→ 202 with the queued video);
 * `DELETE /:id` aborts. An `upload` token may start one upload and then
 * complete or abort that one.
 */
export function directUploadRoutes({ uploads, admission }: DirectUploadRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/', jsonBodyLimit(), async (c) => {
    const body = await readJsonBody(c, createBody);
    const uploader = { tenant: c.get('tenant'), token: c.get('token') };
    const id = uploads.newId();
    const { priority, title, channelId, filename } = await admission.admit(
      uploader,
      { priority: body.priority, title: parseTitle(body.title), channelId: body.channelId, filename: body.filename, size: body.size },
      id,
    );
    const { doc, parts } = await uploads.create(id, {
      tenant: uploader.tenant,
      size: body.size,
      contentType: mediaType(body.contentType) ?? 'application/octet-stream',
      priority,
      ...(filename ? { filename } : {}),
      ...(title ? { title } : {}),
      ...(channelId ? { channelId } : {}),
    });
    c.header('location', `/v1/uploads/${id}`);
    return c.json(
      { id, uploadId: doc.uploadId, partSize: doc.partSize, parts, expiresAt: doc.expiresAt, complete: `/v1/uploads/${id}/complete` },
      201,
    );
  });

  app.post('/:id/complete', jsonBodyLimit(COMPLETE_BODY_BYTES), async (c) => {
    const doc = await ownUpload(c, uploads, admission);
    const { parts } = await readJsonBody(c, completeBody);
    const video = await uploads.complete(doc, parts);
    c.header('location', `/v1/videos/${video.id}`);
    return c.json(videoView(video), 202);
  });

  app.delete('/:id', async (c) => {
    await uploads.abort(await ownUpload(c, uploads, admission));
    return c.body(null, 204);
  });

  return app;
}

/** The caller's upload; with a token, only the upload that token started. */
async function ownUpload(c: Context<AppEnv>, uploads: DirectUploads, admission: UploadAdmission): Promise<DirectUpload> {
  const id = c.req.param('id') ?? '';
  if (!isVideoId(id)) throw notFound(`no upload with id ${JSON.stringify(id.slice(0, 50))}`);
  const doc = await uploads.get(id, c.get('tenant'));
  if (!(await admission.mayContinue({ tenant: c.get('tenant'), token: c.get('token') }, id)))
    throw outOfScope('this upload token did not start this upload');
  if (!doc.completed && Date.parse(doc.expiresAt) < Date.now()) {
    throw new HttpProblem(410, 'Gone', `upload ${id} expired at ${doc.expiresAt}; its parts are removed by the bucket's lifecycle rule`);
  }
  return doc;
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const DIRECT_UPLOAD_OPERATIONS: OperationDocs = {
  'POST /v1/uploads': {
    summary: 'Start a direct-to-S3 multipart upload (presigned part URLs)',
    tag: 'uploads',
    success: [201, 'the upload with its part URLs'],
    errors: [400, 401, 403, 413, 429],
    body: { schema: createBody },
  },
  'POST /v1/uploads/{id}/complete': {
    summary: 'Complete a direct upload and queue the video',
    tag: 'uploads',
    success: [202, 'queued'],
    errors: [400, 401, 404, 409],
    body: { schema: completeBody },
  },
  'DELETE /v1/uploads/{id}': { summary: 'Abort a direct upload', tag: 'uploads', success: [204, 'aborted'], errors: [401, 404] },
};
