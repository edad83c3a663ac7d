import type { S3Client } from '@aws-sdk/client-s3';
import { Hono } from 'hono';
import type { Config } from '../core/config/index.ts';
import type { Logger } from '../core/logger.ts';
import type { StatusStore } from '../core/status-store.ts';
import { apiReferenceRoutes, API_REFERENCE_OPERATIONS, API_REFERENCE_SCRIPT_PATH } from './api-reference.ts';
import type { AppEnv } from './app-env.ts';
import { apiKeyAuth } from './auth/auth.ts';
import type { TokenSigner } from './auth/tokens.ts';
import { tokenRoutes, TOKEN_OPERATIONS } from './auth/tokens-routes.ts';
import type { EventFeatureDeps } from './event-features.ts';
import { channelRoutes, CHANNEL_OPERATIONS } from './live/channels-routes.ts';
import { liveHlsRoutes, LIVE_HLS_OPERATIONS } from './live/live-hls-routes.ts';
import { concurrentUploadLimit } from './middleware/concurrency-limit.ts';
import { apiCors } from './middleware/cors.ts';
import type { ApiMetrics } from './middleware/metrics.ts';
import { errorHandler, notFoundHandler } from './middleware/problem.ts';
import { channelRateLimit, uploadRateLimit } from './middleware/rate-limit.ts';
import { requestLog } from './middleware/request-log.ts';
import { API_VERSION, openApiDocument, type OperationDocs } from './openapi.ts';
import { downloadRoutes, DOWNLOAD_OPERATIONS } from './playback/download-routes.ts';
import { playbackRoutes, PLAYBACK_OPERATIONS } from './playback/playback-routes.ts';
import { eventsRoutes, EVENTS_OPERATIONS } from './realtime/events-routes.ts';
import { notificationRoutes, NOTIFICATION_OPERATIONS } from './realtime/notifications-routes.ts';
import { wsRoute } from './realtime/ws-route.ts';
import type { UploadAdmission } from './uploads/admission.ts';
import type { DirectUploads } from './uploads/direct-uploads.ts';
import { directUploadRoutes, DIRECT_UPLOAD_OPERATIONS } from './uploads/direct-uploads-routes.ts';
import type { Ingest } from './uploads/ingest.ts';
import { streamedUploadRoutes, STREAMED_UPLOAD_OPERATIONS } from './uploads/streamed-upload-routes.ts';
import { TUS_PATH, TUS_OPERATIONS } from './uploads/tus/tus-routes.ts';
import type { CaptionTracks } from './videos/caption-tracks.ts';
import { captionRoutes, CAPTION_OPERATIONS } from './videos/captions-routes.ts';
import type { VideoDeletion } from './videos/video-deletion.ts';
import { videoRoutes, VIDEO_OPERATIONS } from './videos/videos-routes.ts';
import { WEB_PAGE_PATHS, webPageRoutes, WEB_PAGE_OPERATIONS } from './web/web-page.ts';
import { webhookRoutes, WEBHOOK_OPERATIONS } from './webhooks/webhooks-routes.ts';

/** Without the event features (startEventFeatures) the live, webhook, events and notifications routes are absent. */
export interface AppDeps extends Partial<EventFeatureDeps> {
  ingest: Ingest;
  store: StatusStore;
  deletion: VideoDeletion;
  /** Uploaded caption tracks (`/v1/videos/:id/captions`). */
  captions: CaptionTracks;
  s3: S3Client;
  rawBucket: string;
  mediaBucket: string;
  api: Config['api'];
  /** Prometheus metrics: counted on every request and served at GET /metrics; none when absent. */
  metrics?: ApiMetrics;
  logger: Logger;
  /** Scoped tokens: the signer (absent without REELAY_TOKEN_SECRET). */
  signer?: TokenSigner | undefined;
  /** Who may upload what, for every way of uploading. */
  admission: UploadAdmission;
  /** Direct-to-S3 uploads (`/v1/uploads`). */
  directUploads?: DirectUploads;
  /** Resumable uploads (`/v1/tus/`). */
  tus?: Hono<AppEnv>;
}

/** The HTTP API. Built from its dependencies so tests can run it in-process with `app.request()`. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestLog(deps.logger));
  if (deps.metrics) app.use(deps.metrics.middleware());
  app.onError(errorHandler(deps.logger));
  app.notFound(notFoundHandler);
  if (deps.api.corsOrigins.length > 0) app.use(apiCors(deps.api.corsOrigins));
  // Load balancers probe /healthz without credentials; the docs and the web page need none.
  const publicPaths = new Set(['/healthz', '/openapi.json', '/docs', API_REFERENCE_SCRIPT_PATH, ...WEB_PAGE_PATHS]);
  app.use(apiKeyAuth({ keys: deps.api.auth.keys, tokens: deps.signer, publicPaths }));
  // One budget per caller for every way of starting an upload (only POSTs count). tus creates on any path
  // below /v1/tus (and PATCH, not POST, continues an upload), so every POST there counts, once
  // (`/v1/tus/*` matches `/v1/tus` itself too: mounting both counted a POST /v1/tus twice).
  const uploadLimit = uploadRateLimit({ perMinute: deps.api.uploadRatePerMinute, burst: deps.api.uploadBurst });
  for (const path of ['/v1/videos', '/v1/uploads', '/v1/tus/*', '/v1/videos/:id/captions']) app.use(path, uploadLimit);
  // One count per caller of request bodies in flight: streamed uploads and tus PATCHes alike.
  const uploadsAtOnce = concurrentUploadLimit(deps.api.maxConcurrentUploads);
  for (const path of ['/v1/videos', '/v1/tus/*']) app.use(path, uploadsAtOnce);
  app.use('/v1/channels/*', channelRateLimit(deps.api.channelRatePerMinute));

  app.route('/', webPageRoutes());
  app.get('/healthz', (c) => c.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }));
  if (deps.metrics) app.get('/metrics', (c) => deps.metrics!.handler(c));
  // Built on first request, from every route registered by then (all of them: routes are added below, at start).
  let openapi: Record<string, unknown> | undefined;
  app.get('/openapi.json', (c) => c.json((openapi ??= openApiDocument(app.routes, API_OPERATIONS, API_VERSION))));
  app.route('/', apiReferenceRoutes());
  app.route('/v1/videos', streamedUploadRoutes(deps));
  app.route('/v1/videos', videoRoutes(deps));
  app.route('/v1/videos', downloadRoutes(deps));
  app.route('/v1/videos', captionRoutes(deps));
  if (deps.directUploads) app.route('/v1/uploads', directUploadRoutes({ uploads: deps.directUploads, admission: deps.admission }));
  if (deps.tus) app.route(TUS_PATH, deps.tus);
  app.route('/v1/tokens', tokenRoutes({ signer: deps.signer, store: deps.store, maxUploadBytes: deps.api.maxUploadBytes }));
  app.route('/v1/videos', playbackRoutes(deps));
  if (deps.channels) {
    app.route('/v1/channels', channelRoutes({ channels: deps.channels, rtmpUrl: deps.rtmpUrl ?? '' }));
    app.route('/v1/channels', liveHlsRoutes({ ...deps, channels: deps.channels }));
  }
  if (deps.webhooks) app.route('/v1/webhooks', webhookRoutes(deps.webhooks));
  if (deps.realtime) {
    app.route('/v1/events', eventsRoutes(deps.realtime));
    app.get('/v1/ws', wsRoute({ ...deps.realtime, logger: deps.logger }));
    app.route('/v1/notifications', notificationRoutes(deps.realtime.hub));
  }
  return app;
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const APP_OPERATIONS: OperationDocs = {
  'GET /healthz': { summary: 'Liveness', tag: 'operations', success: [200, 'the process is up'], errors: [], public: true },
  'GET /metrics': {
    summary: 'Prometheus metrics of this API process',
    tag: 'operations',
    success: [200, 'Prometheus text format', 'text/plain'],
    errors: [401],
  },
  'GET /openapi.json': { summary: 'This document', tag: 'operations', success: [200, 'OpenAPI 3.1'], errors: [], public: true },
  'GET /v1/ws': {
    summary: 'WebSocket push of the same events (subscribe/unsubscribe messages)',
    tag: 'events',
    success: [101, 'switching protocols'],
    errors: [400, 401, 426, 429],
  },
};

/** Every route's description, gathered from the modules that define the routes. */
export const API_OPERATIONS: OperationDocs = {
  ...APP_OPERATIONS,
  ...API_REFERENCE_OPERATIONS,
  ...STREAMED_UPLOAD_OPERATIONS,
  ...VIDEO_OPERATIONS,
  ...CAPTION_OPERATIONS,
  ...DOWNLOAD_OPERATIONS,
  ...PLAYBACK_OPERATIONS,
  ...WEB_PAGE_OPERATIONS,
  ...DIRECT_UPLOAD_OPERATIONS,
  ...TUS_OPERATIONS,
  ...TOKEN_OPERATIONS,
  ...CHANNEL_OPERATIONS,
  ...LIVE_HLS_OPERATIONS,
  ...WEBHOOK_OPERATIONS,
  ...EVENTS_OPERATIONS,
  ...NOTIFICATION_OPERATIONS,
};
