import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { startBody } from './live/channels-routes.ts';
import { body as tokenBody } from './auth/tokens-routes.ts';
import { completeBody, createBody as uploadCreateBody } from './uploads/direct-uploads-routes.ts';
import { createBody as webhookCreateBody, patchBody as webhookPatchBody, rotateBody } from './webhooks/webhooks-routes.ts';

/**
 * The OpenAPI 3.1 description of the HTTP API (`GET /openapi.json`, rendered
 * at `GET /docs`). Request bodies are the zod schemas the routes validate with
 * (converted by zod's own JSON Schema output); every operation lists its
 * success status and its problem+json errors. `openApiDocument(app.routes)`
 * takes the routes hono actually registered: one without an entry here is
 * listed under `x-undocumented`, which the test requires to be empty.
 */
interface Operation {
  summary: string;
  tag: string;
  success: [status: number, description: string, contentType?: string];
  errors: number[];
  body?: { schema: z.ZodType } | { contentType: string; description: string };
  query?: Record<string, string>;
  public?: true;
}

/** The version in package.json: the API's. */
export const API_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const json = (schema: z.ZodType) => ({ schema });
const OPERATIONS: Record<string, Operation> = {
  'GET /healthz': { summary: 'Liveness', tag: 'operations', success: [200, 'the process is up'], errors: [], public: true },
  'GET /metrics': {
    summary: 'Prometheus metrics of this API process',
    tag: 'operations',
    success: [200, 'Prometheus text format', 'text/plain'],
    errors: [401],
  },
  'GET /openapi.json': { summary: 'This document', tag: 'operations', success: [200, 'OpenAPI 3.1'], errors: [], public: true },
  'GET /docs': { summary: 'API reference page', tag: 'operations', success: [200, 'HTML', 'text/html'], errors: [], public: true },
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
  'GET /v1/videos': {
    summary: 'List videos, newest first',
    tag: 'videos',
    success: [200, '{items, nextCursor?}'],
    errors: [400, 401],
    query: { limit: '1-100 (default 20)', cursor: 'from a previous page' },
  },
  'GET /v1/videos/{id}': { summary: "A video's status and outputs", tag: 'videos', success: [200, 'the video'], errors: [401, 404] },
  'DELETE /v1/videos/{id}': {
    summary: 'Delete a video, its upload and outputs',
    tag: 'videos',
    success: [204, 'deleted'],
    errors: [401, 404, 409],
  },
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
  'GET /': {
    summary: 'The web page: upload, live states, playback',
    tag: 'operations',
    success: [200, 'HTML', 'text/html'],
    errors: [],
    public: true,
  },
  'GET /assets/{file}': {
    summary: "The web page's script and stylesheet",
    tag: 'operations',
    success: [200, 'JavaScript or CSS', 'text/javascript'],
    errors: [404],
    public: true,
  },
  'POST /v1/uploads': {
    summary: 'Start a direct-to-S3 multipart upload (presigned part URLs)',
    tag: 'uploads',
    success: [201, 'the upload with its part URLs'],
    errors: [400, 401, 403, 413, 429],
    body: json(uploadCreateBody),
  },
  'POST /v1/uploads/{id}/complete': {
    summary: 'Complete a direct upload and queue the video',
    tag: 'uploads',
    success: [202, 'queued'],
    errors: [400, 401, 404, 409],
    body: json(completeBody),
  },
  'DELETE /v1/uploads/{id}': { summary: 'Abort a direct upload', tag: 'uploads', success: [204, 'aborted'], errors: [401, 404] },
  'GET /v1/tus/{id}': {
    summary: 'tus 1.0 resumable uploads: POST /v1/tus/ creates, HEAD/PATCH/DELETE /v1/tus/{id} (see tus.io)',
    tag: 'uploads',
    success: [200, 'the upload (tus)'],
    errors: [401, 404],
  },
  'POST /v1/tokens': {
    summary: 'Mint a short-lived upload, watch or playback token',
    tag: 'tokens',
    success: [201, 'the token'],
    errors: [400, 401, 403],
    body: json(tokenBody),
  },
  'GET /v1/channels/{channelId}/live': {
    summary: "A channel's live session",
    tag: 'live',
    success: [200, 'live or offline'],
    errors: [400, 401],
  },
  'POST /v1/channels/{channelId}/live': {
    summary: 'Start a live session (publishes live.started)',
    tag: 'live',
    success: [201, 'started (200: already live)'],
    errors: [400, 401, 429],
    body: json(startBody),
  },
  'DELETE /v1/channels/{channelId}/live': {
    summary: 'End the live session (publishes live.ended)',
    tag: 'live',
    success: [200, 'ended'],
    errors: [400, 401],
  },
  'POST /v1/webhooks': {
    summary: 'Register a webhook endpoint',
    tag: 'webhooks',
    success: [201, 'the webhook with its signing secret'],
    errors: [400, 401, 409, 422, 503],
    body: json(webhookCreateBody),
  },
  'GET /v1/webhooks': { summary: 'List webhooks', tag: 'webhooks', success: [200, 'the webhooks'], errors: [401] },
  'GET /v1/webhooks/{id}': { summary: 'One webhook', tag: 'webhooks', success: [200, 'the webhook'], errors: [401, 404] },
  'PATCH /v1/webhooks/{id}': {
    summary: 'Change a webhook (url, events, enabled)',
    tag: 'webhooks',
    success: [200, 'the webhook'],
    errors: [400, 401, 404, 422],
    body: json(webhookPatchBody),
  },
  'DELETE /v1/webhooks/{id}': { summary: 'Delete a webhook', tag: 'webhooks', success: [204, 'deleted'], errors: [401, 404] },
  'POST /v1/webhooks/{id}/secret': {
    summary: 'Rotate the signing secret (the old one signs too for a grace period)',
    tag: 'webhooks',
    success: [200, 'the new secret'],
    errors: [400, 401, 404, 503],
    body: json(rotateBody),
  },
  'POST /v1/webhooks/{id}/test': {
    summary: 'Send a test delivery now',
    tag: 'webhooks',
    success: [200, 'the delivery result'],
    errors: [401, 404, 503],
  },
  'POST /v1/webhooks/{id}/redeliver': {
    summary: 'Redeliver dead-lettered deliveries',
    tag: 'webhooks',
    success: [200, 'how many were redelivered'],
    errors: [401, 404],
  },
  'GET /v1/events': {
    summary: 'Server-Sent Events of the events this API instance receives',
    tag: 'events',
    success: [200, 'text/event-stream: `id`, `event` (the type), `data` (the CloudEvent)', 'text/event-stream'],
    errors: [400, 401, 429, 503],
    query: {
      videoId: 'only this video',
      channelId: 'only this channel',
      type: 'comma-separated event types',
      token: 'a watch token instead of the Authorization header',
    },
  },
  'GET /v1/ws': {
    summary: 'WebSocket push of the same events (subscribe/unsubscribe messages)',
    tag: 'events',
    success: [101, 'switching protocols'],
    errors: [400, 401, 426, 429],
  },
  'GET /v1/notifications': {
    summary: 'The recent events this API instance received',
    tag: 'events',
    success: [200, 'recent events'],
    errors: [401],
  },
};

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  411: 'Length Required',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** hono's `/v1/videos/:id` as OpenAPI's `/v1/videos/{id}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:(\w+)/g, '{$1}');
}

/** The document for the routes an app registered (`app.routes`); middleware (method ALL) is not an operation. */
export function openApiDocument(routes: readonly { method: string; path: string }[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const undocumented: string[] = [];
  const seen = new Set<string>();
  for (const { method, path } of routes) {
    if (method === 'ALL') continue;
    const key = `${method} ${openApiPath(path)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const op = OPERATIONS[key];
    if (!op) {
      undocumented.push(key);
      continue;
    }
    const parameters = [
      ...[...openApiPath(path).matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
      ...Object.entries(op.query ?? {}).map(([name, description]) => ({
        name,
        in: 'query',
        required: false,
        description,
        schema: { type: 'string' },
      })),
    ];
    const [status, description, contentType = 'application/json'] = op.success;
    const responses: Record<string, unknown> = {
      [String(status)]: {
        description,
        ...(status === 204 || status === 302 || status === 101 ? {} : { content: { [contentType]: { schema: {} } } }),
      },
    };
    for (const code of op.errors) responses[String(code)] = { $ref: `#/components/responses/Problem${code}` };
    (paths[openApiPath(path)] ??= {})[method.toLowerCase()] = {
      operationId: `${method.toLowerCase()}${openApiPath(path)
        .replace(/[{}]/g, '')
        .replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())
        .replace(/[^\w]/g, '')}`,
      summary: op.summary,
      tags: [op.tag],
      ...(op.public ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content:
                'schema' in op.body
                  ? {
                      'application/json': {
                        schema: z.toJSONSchema(op.body.schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }),
                      },
                    }
                  : { [op.body.contentType]: { schema: {} } },
              ...('description' in op.body ? { description: op.body.description } : {}),
            },
          }
        : {}),
      responses,
    };
  }
  const codes = [...new Set(Object.values(OPERATIONS).flatMap((o) => o.errors))].sort();
  return {
    openapi: '3.1.0',
    info: { title: 'reelay', version, description: 'Video upload and transcoding pipeline. Errors are RFC 9457 problem+json.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: ['videos', 'uploads', 'tokens', 'live', 'webhooks', 'events', 'operations'].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API key (REELAY_API_KEYS) or a token from POST /v1/tokens' },
      },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            instance: { type: 'string' },
          },
        },
      },
      responses: Object.fromEntries(
        codes.map((code) => [
          `Problem${code}`,
          {
            description: STATUS_TEXT[code] ?? String(code),
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          },
        ]),
      ),
    },
    ...(undocumented.length ? { 'x-undocumented': undocumented } : {}),
  };
}
