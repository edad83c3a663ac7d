import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { MemoryLocker, Server, type ServerOptions, type Upload } from '@tus/server';
import { Hono, type Context } from 'hono';
import { HttpProblem } from '../../../core/errors.ts';
import { isVideoId, newVideoId } from '../../../core/ids.ts';
import type { Logger } from '../../../core/logger.ts';
import type { PriorityTier } from '../../../core/resources.ts';
import type { StatusStore } from '../../../core/status-store.ts';
import type { AppEnv } from '../../app-env.ts';
import type { Ingest } from '../ingest.ts';
import { isVideoMediaType, mediaType } from '../media-type.ts';
import { notFound } from '../../middleware/problem.ts';
import type { Admitted, UploadAdmission, Uploader } from '../admission.ts';
import { parsePriority, parseTitle } from '../../videos/video-fields.ts';
import { LedgerS3Store } from './ledger-s3-store.ts';
import type { OperationDocs } from '../../openapi.ts';

export interface TusRoutesDeps {
  /** How the store's own S3 client reaches the raw bucket (same endpoint and credentials as the API's). */
  s3Config: S3ClientConfig;
  rawBucket: string;
  ingest: Ingest;
  store: StatusStore;
  /** Who may upload what, and how it is queued. */
  admission: UploadAdmission;
  corsOrigins: readonly string[];
  logger: Logger;
}

export const TUS_PATH = '/v1/tus';
/** Objects of tus uploads in the raw bucket: `tus/<videoId>` (plus the store's `.info`, `.part` and ledger). */
const KEY_PREFIX = 'tus/';
/** An unfinished upload may be resumed for a day (the raw bucket aborts older multipart uploads). */
export const TUS_EXPIRATION_MS = 24 * 3600_000;

/** A tus error: @tus/server sends `body` with `status_code`. */
const tusError = (status_code: number, body: string) => ({ status_code, body: `${body}\n` });

function meta(upload: Upload, name: string): string | undefined {
  const value = upload.metadata?.[name];
  return value === null || value === undefined || value === '' ? undefined : value;
}

/**
 * `/v1/tus/`: resumable uploads (tus 1.0.0 with creation,
 * creation-with-upload, termination and expiration), by `@tus/server` with
 * `@tus/s3-store` (our `LedgerS3Store`) mounted through its `handleWeb`.
 * Upload state lives in the raw bucket, not in memory: an upload resumes after
 * the client dies and after the API restarts. Metadata: `filename`,
 * `filetype`, `priority`, `title`, `channelId`. When the last byte is stored
 * the video is queued exactly as `POST /v1/videos` does (the upload id is the
 * video id); `GET /v1/tus/<id>` of a finished upload redirects to the video.
 */
export function tusRoutes(deps: TusRoutesDeps): Hono<AppEnv> {
  // What the hono side knows of a request (tenant, token), for the tus hooks, which only see the Request.
  const callers = new WeakMap<Request, Uploader>();
  const callerOf = (req: Request): Uploader => {
    const caller = callers.get(req);
    if (!caller) throw tusError(500, 'request without a caller');
    return caller;
  };
  const datastore = new LedgerS3Store({
    s3ClientConfig: { ...deps.s3Config, bucket: deps.rawBucket },
    expirationPeriodInMilliseconds: TUS_EXPIRATION_MS,
  });
  const videoIdOf = (uploadId: string) => uploadId.slice(KEY_PREFIX.length);

  const options: ServerOptions & { datastore: LedgerS3Store } = {
    path: TUS_PATH,
    datastore,
    locker: new MemoryLocker(),
    relativeLocation: true,
    maxSize: (req) => deps.admission.maxBytes(callerOf(req as unknown as Request)),
    allowedOrigins: (origin) => deps.corsOrigins.includes('*') || deps.corsOrigins.includes(origin),
    namingFunction: () => `${KEY_PREFIX}${newVideoId()}`,
    generateUrl: (_req, { path, id }) => `${path}/${videoIdOf(id)}`,
    getFileIdFromRequest: (_req, lastPath) => (lastPath && isVideoId(lastPath) ? `${KEY_PREFIX}${lastPath}` : undefined),

    async onUploadCreate(req, upload) {
      const caller = callerOf(req as unknown as Request);
      const videoId = videoIdOf(upload.id);
      const filetype = meta(upload, 'filetype') ?? 'application/octet-stream';
      if (!isVideoMediaType(filetype))
        throw tusError(415, `filetype must be video/* or application/octet-stream; got ${JSON.stringify(filetype.slice(0, 100))}`);
      if (upload.size === undefined) throw tusError(400, 'send Upload-Length: reelay needs the size up front');
      let admitted: Admitted;
      try {
        admitted = await deps.admission.admit(
          caller,
          {
            priority: parsePriority(meta(upload, 'priority')),
            title: parseTitle(meta(upload, 'title')),
            channelId: meta(upload, 'channelId'),
            filename: meta(upload, 'filename'),
            size: upload.size,
          },
          videoId,
        );
      } catch (err) {
        if (err instanceof HttpProblem) throw tusError(err.status, err.message);
        throw err;
      }
      const { priority, title, channelId } = admitted;
      // Only the fields reelay reads are kept: other client metadata (`cacheControl`, `contentType`, …) would
      // reach S3 as headers. The tenant comes from the credentials, never from the client's metadata.
      const filename = meta(upload, 'filename');
      const metadata: Record<string, string> = {
        tenant: caller.tenant,
        priority,
        filetype,
        ...(filename ? { filename } : {}),
        ...(title ? { title } : {}),
        ...(channelId ? { channelId } : {}),
      };
      return { metadata };
    },

    // HEAD, PATCH, DELETE (and POST, for a new id): only the owner's uploads exist; a token only its own.
    async onIncomingRequest(req, uploadId) {
      if (req.method === 'POST') return;
      const caller = callerOf(req as unknown as Request);
      let tenant: string | undefined;
      try {
        tenant = (await datastore.uploadMetadata(uploadId))?.tenant ?? undefined;
      } catch {
        tenant = undefined;
      }
      if (tenant !== caller.tenant) throw tusError(404, 'no such upload');
      if (!(await deps.admission.mayContinue(caller, videoIdOf(uploadId))))
        throw tusError(403, 'this upload token did not create this upload');
    },

    // An error of ours carries its status and sentence. Anything else is logged, and the client gets a
    // sentence, never the store's own text (S3's NoSuchUpload and the like).
    onResponseError(req, err) {
      const status = (err as { status_code?: number }).status_code;
      if (status !== undefined && status < 500) return undefined;
      const name = (err as { name?: string }).name ?? '';
      if (name === 'NoSuchUpload')
        return tusError(409, 'this upload is finished (or was abandoned): nothing more can be sent to it; HEAD gives its offset');
      deps.logger.error({ err, method: req.method, url: req.url }, 'tus request failed');
      return tusError(status ?? 500, 'the upload could not be stored; try again');
    },

    async onUploadFinish(_req, upload) {
      const videoId = videoIdOf(upload.id);
      const filename = meta(upload, 'filename');
      const title = meta(upload, 'title');
      const channelId = meta(upload, 'channelId');
      const video = await deps.ingest.enqueue(
        {
          id: videoId,
          key: upload.id,
          bytes: upload.size ?? upload.offset,
          info: { contentType: mediaType(meta(upload, 'filetype')) ?? 'application/octet-stream', ...(filename ? { filename } : {}) },
        },
        {
          tenant: meta(upload, 'tenant')!,
          priority: (meta(upload, 'priority') ?? 'normal') as PriorityTier,
          ...(title ? { title } : {}),
          ...(channelId ? { channelId } : {}),
        },
      );
      // The ledger stays: a client that lost the final response asks HEAD, and the offset must still be the size.
      // The finished upload leads to its video.
      return { headers: { Location: `/v1/videos/${video.id}` } };
    },
  };
  const server = new Server(options);

  const app = new Hono<AppEnv>();
  const handle = async (c: Context<AppEnv>) => {
    const req = c.req.raw;
    callers.set(req, { tenant: c.get('tenant'), token: c.get('token') });
    // @tus/server watches the Node request (srvx's `runtime.node`) for a client that goes away: it then ends
    // the body gracefully and stores every byte received (an incomplete part included), instead of failing
    // the write and dropping the part in progress. @hono/node-server keeps that request in `c.env.incoming`.
    const incoming = (c.env as { incoming?: unknown; outgoing?: unknown } | undefined)?.incoming;
    if (incoming && !('runtime' in req)) {
      Object.defineProperty(req, 'runtime', {
        value: { name: 'node', node: { req: incoming, res: (c.env as { outgoing?: unknown }).outgoing } },
      });
    }
    return server.handleWeb(req);
  };
  // A finished upload is a video: GET leads there (tus itself has no GET).
  app.get('/:id', async (c) => {
    // hono routes HEAD to GET handlers; HEAD is tus's (the offset of an upload).
    if (c.req.method === 'HEAD') return handle(c);
    const id = c.req.param('id');
    const video = isVideoId(id) ? await deps.store.getOwned(id, c.get('tenant')) : undefined;
    if (!video || video.source.key !== `${KEY_PREFIX}${id}`) throw notFound(`no finished tus upload ${JSON.stringify(id.slice(0, 50))}`);
    return c.redirect(`/v1/videos/${id}`, 303);
  });
  app.all('*', handle);
  return app;
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const TUS_OPERATIONS: OperationDocs = {
  'GET /v1/tus/{id}': {
    summary: 'tus 1.0 resumable uploads: POST /v1/tus/ creates, HEAD/PATCH/DELETE /v1/tus/{id} (see tus.io)',
    tag: 'uploads',
    success: [200, 'the upload (tus)'],
    errors: [401, 404],
  },
};
