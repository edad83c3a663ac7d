import type { AwsClients } from '../core/aws.ts';
import type { Config } from '../core/config/index.ts';
import type { EventPublisher } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { queueUrl, type ResolvedResources } from '../core/resources.ts';
import { WebhookStore } from '../core/webhooks/store.ts';
import { SecretBox } from '../core/webhooks/secret-box.ts';
import { ConcurrencyLimit } from './middleware/concurrency-limit.ts';
import type { EventsRoutesDeps } from './realtime/events-routes.ts';
import { LiveChannels } from '../core/live/channels.ts';
import { EVENT_SOURCE } from './event-source.ts';
import { EventHub } from './realtime/event-hub.ts';
import { RealtimeGateway } from './realtime/gateway.ts';
import { removeOrphanedRealtimeQueues } from './realtime/orphan-cleanup.ts';
import type { WebhookRoutesDeps } from './webhooks/webhooks-routes.ts';

/** What createApp needs for the live, webhook, SSE and notification routes. */
export interface EventFeatureDeps {
  channels: LiveChannels;
  /** Where encoders publish (`ingest.rtmp` of a channel), REELAY_LIVE_RTMP_URL. */
  rtmpUrl: string;
  webhooks: WebhookRoutesDeps;
  realtime: EventsRoutesDeps;
}

export interface EventFeatures {
  deps: EventFeatureDeps;
  gateway: RealtimeGateway;
  /** Ends every SSE stream, then removes this process's realtime queue. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The API's side of events, started by every API process: its realtime queue
 * and buffer (for `/v1/events` and `/v1/notifications`), live channels and
 * webhook registration. Orphaned realtime queues of dead instances are removed
 * in the background.
 */
export async function startEventFeatures({
  clients,
  resources,
  config,
  events,
  logger,
}: {
  clients: AwsClients;
  resources: ResolvedResources;
  config: Config;
  events: EventPublisher;
  logger: Logger;
}): Promise<EventFeatures> {
  const hub = new EventHub({ capacity: config.realtime.bufferSize });
  const topicArns = [resources.videoTopicArn, resources.liveTopicArn];
  // Built before the gateway starts: nothing that can throw comes after the realtime queue exists.
  const deliveriesUrl = await queueUrl(clients.sqs, resources.names.webhookDeliveriesQueue);
  const deps: EventFeatureDeps = {
    channels: new LiveChannels({ s3: clients.s3, mediaBucket: resources.names.mediaBucket, events, logger, source: EVENT_SOURCE }),
    rtmpUrl: config.live.rtmpUrl,
    webhooks: {
      store: new WebhookStore(clients.s3, resources.names.mediaBucket, new SecretBox(config.secretsKey)),
      allowPrivate: config.webhooks.allowPrivate,
      maxEndpoints: config.webhooks.maxEndpoints,
      redeliverPerMinute: config.webhooks.redeliverPerMinute,
      timeoutMs: config.webhooks.timeoutMs,
      deliveries: { sqs: clients.sqs, queueUrl: deliveriesUrl! },
      missingSecretsKey: config.api.auth.mode === 'keys' && !config.secretsKey,
    },
    realtime: { hub, heartbeatMs: config.realtime.heartbeatMs, streams: new ConcurrencyLimit(config.api.maxStreams) },
  };
  const gateway = await RealtimeGateway.start({
    sqs: clients.sqs,
    sns: clients.sns,
    topicArns,
    namePrefix: resources.names.realtimeQueuePrefix,
    hub,
    orphanAfterMs: config.realtime.orphanAfterMs,
    pollWaitSeconds: config.worker.pollWaitSeconds,
    logger,
  });
  void removeOrphanedRealtimeQueues(clients, {
    namePrefix: resources.names.realtimeQueuePrefix,
    topicArns,
    orphanAfterMs: config.realtime.orphanAfterMs,
    keepUrl: gateway.queue.url,
    logger,
  }).catch((err: unknown) => logger.warn({ err }, 'orphaned realtime queue clean-up failed; the next API start retries'));
  let stopped: Promise<void> | undefined;
  return {
    deps,
    gateway,
    stop() {
      stopped ??= (async () => {
        hub.close();
        await gateway.stop();
      })();
      return stopped;
    },
  };
}
