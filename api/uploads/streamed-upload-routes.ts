import { Hono } from 'hono';
import type { Config } from '../../core/config/index.ts';
import { HttpProblem } from '../../core/errors.ts';
import type { AppEnv } from '../app-env.ts';
import { badRequest } from '../middleware/problem.ts';
import { videoView } from '../videos/video-view.ts';
import type { Admitted, UploadAdmission } from './admission.ts';
import type { Ingest } from './ingest.ts';
import { isVideoMediaType } from './media-type.ts';
import { parsePriority, parseTitle } from '../videos/video-fields.ts';
import { receiveUpload, tooLarge } from './upload-stream.ts';
import type { OperationDocs } from '../openapi.ts';

export interface StreamedUploadRoutesDeps {
  ingest: Ingest;
  api: Pick<Config['api'], 'uploadMinRate'>;
  /** Who may upload what, and how it is queued. */
  admission: UploadAdmission;
}

/** Multipart framing around the file: boundaries, part headers and a few short fields. */
const MULTIPART_OVERHEAD = 64 * 1024;

/**
 * `POST /v1/videos`: the upload streamed through the API, as a multipart form (field `file`, with
 * `title`, `priority`, `channelId`) or as the raw body (the fields in the query). The bytes go to the
 * raw bucket as they arrive; the video is queued once the whole file is stored and admitted.
 */
export function streamedUploadRoutes({ ingest, api, admission }: StreamedUploadRoutesDeps): Hono<AppEnv> {
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
  return app;
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const STREAMED_UPLOAD_OPERATIONS: OperationDocs = {
  'POST /v1/videos': {
    summary: 'Upload a video (multipart field `file`, or a raw video/* or application/octet-stream body)',
    tag: 'videos',
    success: [202, 'stored and queued'],
    errors: [400, 401, 403, 411, 413, 415, 429, 503],
    body: {
      contentType: 'multipart/form-data',
      description: 'field `file` (and optional `title`, `priority`, `channelId`), or the raw file with ?title=&priority=',
    },
    query: { priority: 'high | normal | low', title: 'title of the video', channelId: 'a live channel this is a recording of' },
  },
};
