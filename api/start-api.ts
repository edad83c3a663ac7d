import type { AwsClients } from '../core/aws.ts';
import type { Config } from '../core/config/index.ts';
import { EventPublisher } from '../core/events.ts';
import { PendingJobs } from '../core/pending-jobs.ts';
import type { Logger } from '../core/logger.ts';
import type { ResolvedResources } from '../core/resources.ts';
import { StatusStore } from '../core/status-store.ts';
import { createApp } from './app.ts';
import { startEventFeatures, type EventFeatures } from './event-features.ts';
import { Ingest } from './uploads/ingest.ts';
import { OrphanUploadSweeper } from './uploads/orphan-uploads.ts';
import { ApiMetrics } from './middleware/metrics.ts';
import { startApiServer } from './server.ts';
import { TokenUses } from './uploads/token-uses.ts';
import { UploadTraces } from './uploads/upload-traces.ts';
import { UploadAdmission } from './uploads/admission.ts';
import { CaptionTracks } from './videos/caption-tracks.ts';
import { VideoDeletion } from './videos/video-deletion.ts';
import { DirectUploads } from './uploads/direct-uploads.ts';
import { tusRoutes } from './uploads/tus/tus-routes.ts';
import { s3ClientConfig } from '../core/aws.ts';
import { TokenSigner } from './auth/tokens.ts';

export interface RunningApi {
  url: string;
  store: StatusStore;
  features: EventFeatures;
  metrics: ApiMetrics;
  /** Ends SSE streams, closes the server, deletes this instance's realtime queue. Does not destroy the clients. */
  stop(): Promise<void>;
}

/**
 * One API instance wired from its parts and listening: what `api/main.ts`
 * runs, and what tests start in-process (as many as they like).
 */
export async function startApi({
  config,
  clients,
  resources,
  logger,
  listen = config.api,
}: {
  config: Config;
  clients: AwsClients;
  resources: ResolvedResources;
  logger: Logger;
  listen?: { host: string; port: number };
}): Promise<RunningApi> {
  const store = new StatusStore(clients.s3, resources.names.mediaBucket);
  const metrics = new ApiMetrics();
  const events = new EventPublisher(clients.sns, resources);
  const pendingJobs = new PendingJobs({
    s3: clients.s3,
    sqs: clients.sqs,
    mediaBucket: resources.names.mediaBucket,
    queueUrls: resources.tierQueueUrl,
    store,
    logger,
  });
  const ingest = new Ingest({
    pendingJobs,
    s3: clients.s3,
    sqs: clients.sqs,
    store,
    events,
    rawBucket: resources.names.rawBucket,
    queueUrls: resources.tierQueueUrl,
    metrics,
    logger,
  });
  const features = await startEventFeatures({ clients, resources, config, events, logger });
  metrics.countClients('sse', () => features.deps.realtime.hub.connections);
  let server: Awaited<ReturnType<typeof startApiServer>>;
  try {
    const signer = config.api.tokenSecret ? new TokenSigner(config.api.tokenSecret) : undefined;
    const tokenUses = new TokenUses(clients.s3, resources.names.mediaBucket);
    const admission = new UploadAdmission({
      maxUploadBytes: config.api.maxUploadBytes,
      tokenUses,
      channels: features.deps.channels,
    });
    const directUploads = new DirectUploads({
      s3: clients.s3,
      rawBucket: resources.names.rawBucket,
      mediaBucket: resources.names.mediaBucket,
      ingest,
      store,
    });
    const app = createApp({
      ingest,
      store,
      deletion: new VideoDeletion({
        s3: clients.s3,
        rawBucket: resources.names.rawBucket,
        store,
        events,
        traces: [
          new UploadTraces({ s3: clients.s3, rawBucket: resources.names.rawBucket, mediaBucket: resources.names.mediaBucket, tokenUses }),
        ],
      }),
      captions: new CaptionTracks({ s3: clients.s3, mediaBucket: resources.names.mediaBucket, store, events }),
      s3: clients.s3,
      rawBucket: resources.names.rawBucket,
      mediaBucket: resources.names.mediaBucket,
      api: config.api,
      metrics,
      logger,
      signer,
      admission,
      directUploads,
      tus: tusRoutes({
        s3Config: s3ClientConfig(config.aws),
        rawBucket: resources.names.rawBucket,
        ingest,
        store,
        admission,
        corsOrigins: config.api.corsOrigins,
        logger,
      }),
      ...features.deps,
    });
    server = await startApiServer(app, { ...config.api, ...listen });
  } catch (err) {
    // A start that fails (the port is taken, …) leaves no realtime queue or subscription behind.
    await features
      .stop()
      .catch((stopErr: unknown) => logger.warn({ err: stopErr }, 'could not remove the realtime queue of a failed start'));
    throw err;
  }
  const stopSweeping = new OrphanUploadSweeper({ s3: clients.s3, rawBucket: resources.names.rawBucket, store, logger }).start();
  const stopPendingSweep = pendingJobs.start();
  return {
    url: server.url,
    store,
    features,
    metrics,
    async stop() {
      // SSE streams never end by themselves: end them, so that closing the server can finish.
      stopSweeping();
      stopPendingSweep();
      const closed = server.close();
      await features.stop();
      await closed;
    },
  };
}
