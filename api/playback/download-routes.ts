import type { S3Client } from '@aws-sdk/client-s3';
import { Hono } from 'hono';
import type { Config } from '../../core/config/index.ts';
import { HttpProblem } from '../../core/errors.ts';
import type { StatusStore } from '../../core/status-store.ts';
import type { AppEnv } from '../app-env.ts';
import { notFound } from '../middleware/problem.ts';
import { getOwnedVideo } from '../videos/owned-video.ts';
import { deliverObject } from './object-delivery.ts';
import type { OperationDocs } from '../openapi.ts';

export interface DownloadRoutesDeps {
  store: StatusStore;
  s3: S3Client;
  rawBucket: string;
  mediaBucket: string;
  api: Pick<Config['api'], 'outputDelivery' | 'presignTtlSeconds'>;
}

/**
 * A video's files as whole objects: `GET /v1/videos/:id/outputs/:name` (a rendition or the thumbnail) and
 * `GET /v1/videos/:id/source` (the file uploaded, while kept). Redirected to a presigned URL or streamed,
 * as REELAY_OUTPUT_DELIVERY says.
 */
export function downloadRoutes({ store, s3, rawBucket, mediaBucket, api }: DownloadRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const delivery = { mode: api.outputDelivery, presignTtlSeconds: api.presignTtlSeconds };

  app.get('/:id/source', async (c) => {
    const doc = await getOwnedVideo(store, c.req.param('id'), c.get('tenant'));
    if (doc.source.deleted)
      throw notFound(`the source of video ${doc.id} was deleted once its outputs were ready (REELAY_KEEP_SOURCE=false)`);
    const { key, contentType } = doc.source;
    return deliverObject(c, s3, { bucket: rawBucket, key, contentType, missing: `the source of video ${doc.id} is missing` }, delivery);
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
    const { key, contentType } = output;
    return deliverObject(
      c,
      s3,
      { bucket: mediaBucket, key, contentType, missing: `the ${name} output of video ${doc.id} is missing` },
      delivery,
    );
  });

  return app;
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const DOWNLOAD_OPERATIONS: OperationDocs = {
  'GET /v1/videos/{id}/source': {
    summary: 'The uploaded file (when kept)',
    tag: 'videos',
    success: [302, 'redirect to a short-lived URL'],
    errors: [401, 404],
  },
  'GET /v1/videos/{id}/outputs/{name}': {
    summary: 'A rendition, thumbnail or HLS/storyboard file',
    tag: 'videos',
    success: [302, 'redirect to a short-lived URL (or the file, REELAY_OUTPUT_DELIVERY=stream)'],
    errors: [401, 404],
  },
};
