import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AwsClients } from '../../core/aws.ts';
import type { Config } from '../../core/config/index.ts';
import { EventPublisher } from '../../core/events.ts';
import { LiveChannels } from '../../core/live/channels.ts';
import type { Logger } from '../../core/logger.ts';
import { PendingJobs } from '../../core/pending-jobs.ts';
import type { VideoQueueDeps } from '../../core/queue-video.ts';
import type { ResolvedResources } from '../../core/resources.ts';
import { StatusStore } from '../../core/status-store.ts';
import type { ListedSegment } from './publish/hls-uploader.ts';
import { RtmpServer, type RtmpPublisher } from './rtmp/rtmp-server.ts';
import { ChannelStream, type ChannelStreamDeps } from './session/channel-stream.ts';
import type { FinishDeps } from './session/finish-session.ts';
import { IngestLeases } from './session/ingest-lease.ts';
import { LiveSweep } from './session/sweep.ts';

export const LIVE_EVENT_SOURCE = '/reelay/live';
/** The RTMP application publishers use: `rtmp://host:1935/live/<stream key>`. */
export const RTMP_APP = 'live';

export interface LiveIngestHooks {
  /** Every publish refused before media, with why (`bad_key`, `busy`, `full`, `unknown_app`). */
  onRefused?: (reason: string) => void;
  onFailed?: (code: string) => void;
  onListed?: (segment: ListedSegment & { latencyMs?: number }) => void;
  onStreams?: (count: number) => void;
}

export interface LiveIngestOptions {
  config: Config;
  clients: AwsClients;
  resources: ResolvedResources;
  ffmpegPath: string;
  logger: Logger;
  hooks?: LiveIngestHooks;
  /** How often leases left by dead processes are looked for, ms. */
  sweepEveryMs?: number;
  /** No keyframe this long after a publish was accepted: refused (default 10 s). */
  keyframeDeadlineMs?: number;
}

export interface RunningLiveIngest {
  rtmp: { host: string; port: number };
  /** This process's id in leases (`host:pid:random`). */
  instance: string;
  /** Streams held here: publishing, starting or in their grace window. */
  readonly streams: number;
  stop(): Promise<void>;
}

/**
 * The live ingest role: an RTMP listener whose publishers are checked against the channels' stream keys before
 * any media is taken, one ChannelStream per channel (refusing a second publisher while one streams), and the
 * sweep that finishes sessions whose ingest process died. Talks to the rest only through S3, SQS and SNS.
 */
export async function startLiveIngest({
  config,
  clients,
  resources,
  ffmpegPath,
  logger,
  hooks = {},
  sweepEveryMs = 5000,
  keyframeDeadlineMs,
}: LiveIngestOptions): Promise<RunningLiveIngest> {
  const settings = config.live;
  const instance = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const events = new EventPublisher(clients.sns, resources);
  const store = new StatusStore(clients.s3, resources.names.mediaBucket);
  const channels = new LiveChannels({
    s3: clients.s3,
    mediaBucket: resources.names.mediaBucket,
    events,
    logger,
    source: LIVE_EVENT_SOURCE,
  });
  const leases = new IngestLeases({ s3: clients.s3, mediaBucket: resources.names.mediaBucket, owner: instance, leaseMs: settings.leaseMs });
  const queue: VideoQueueDeps = {
    s3: clients.s3,
    sqs: clients.sqs,
    store,
    pendingJobs: new PendingJobs({
      s3: clients.s3,
      sqs: clients.sqs,
      mediaBucket: resources.names.mediaBucket,
      queueUrls: resources.tierQueueUrl,
      store,
      logger,
    }),
    events,
    rawBucket: resources.names.rawBucket,
    queueUrls: resources.tierQueueUrl,
    logger,
    eventSource: LIVE_EVENT_SOURCE,
  };
  const finishDeps: FinishDeps = {
    channels,
    leases,
    queue,
    s3: clients.s3,
    mediaBucket: resources.names.mediaBucket,
    logger,
    presentationLingerMs: 30_000,
  };
  const streams = new Map<string, ChannelStream>();
  /** Channels whose publish is being checked right now: a second publisher meanwhile is refused. */
  const claiming = new Set<string>();
  const reportStreams = () => hooks.onStreams?.(streams.size);

  const refuse = (publisher: RtmpPublisher, reason: string, description: string) => {
    logger.info({ connection: publisher.id, remoteAddress: publisher.remoteAddress, reason }, 'publish refused');
    hooks.onRefused?.(reason);
    publisher.refuse(description);
  };

  const onPublish = async (publisher: RtmpPublisher) => {
    const { app, streamName } = publisher.request;
    if (app !== RTMP_APP) return refuse(publisher, 'unknown_app', `publish to rtmp://…/${RTMP_APP}/<stream key>`);
    const owner = await channels.resolveStreamKey(streamName);
    if (!owner) return refuse(publisher, 'bad_key', 'the stream key is not valid (unknown, or replaced by a newer one)');
    const { tenant, channelId } = owner;
    const id = `${tenant}/${channelId}`;
    const existing = streams.get(id);
    if (existing?.publishing || claiming.has(id)) return refuse(publisher, 'busy', `channel ${channelId} is already being published`);
    if (!existing && streams.size + claiming.size >= settings.maxStreams)
      return refuse(publisher, 'full', 'this ingest takes no more streams now; try again later');
    claiming.add(id);
    try {
      await claimAndAttach(publisher, { tenant, channelId, id, ...(owner.name ? { name: owner.name } : {}) });
    } finally {
      claiming.delete(id);
    }
  };

  const claimAndAttach = async (
    publisher: RtmpPublisher,
    { tenant, channelId, id, name }: { tenant: string; channelId: string; id: string; name?: string },
  ) => {
    let claim = await leases.claim(tenant, channelId, settings.reconnectGraceMs);
    if ('refused' in claim && claim.refused === 'stale') {
      // A dead process's session past its grace: finished here and now, then the new stream starts afresh.
      await sweep.finishLeft(claim.current);
      claim = await leases.claim(tenant, channelId, settings.reconnectGraceMs);
    }
    if ('refused' in claim)
      return refuse(publisher, 'busy', `channel ${channelId} is already being published (or its last session is being finished)`);
    let stream = streams.get(id);
    if (!stream) {
      stream = new ChannelStream(streamDeps(id), { tenant, channelId, ...(name ? { name } : {}), lease: claim.lease });
      streams.set(id, stream);
      reportStreams();
    }
    stream.attach(publisher, claim.lease);
  };

  const streamDeps = (id: string): ChannelStreamDeps => ({
    ...finishDeps,
    settings,
    rawBucket: resources.names.rawBucket,
    ffmpegPath,
    tmpDir: config.worker.tmpDir,
    eventSource: LIVE_EVENT_SOURCE,
    ...(keyframeDeadlineMs ? { keyframeDeadlineMs } : {}),
    onDone: () => {
      streams.delete(id);
      reportStreams();
    },
    ...(hooks.onListed ? { onListed: hooks.onListed } : {}),
    ...(hooks.onFailed ? { onFailed: hooks.onFailed } : {}),
  });

  const sweep = new LiveSweep({
    ...finishDeps,
    graceMs: settings.reconnectGraceMs,
    everyMs: sweepEveryMs,
    isHeldHere: (tenant, channelId) => streams.has(`${tenant}/${channelId}`),
  });
  const server = new RtmpServer({
    host: settings.host,
    port: settings.rtmpPort,
    maxConnections: settings.maxConnections,
    logger,
    onPublish: (publisher) =>
      void onPublish(publisher).catch((err: unknown) => {
        logger.error({ err, connection: publisher.id }, 'could not check a publish');
        publisher.refuse('the ingest cannot check stream keys right now; try again in a moment');
      }),
  });
  const rtmp = await server.listen();
  sweep.start();
  logger.info({ rtmp, instance, maxStreams: settings.maxStreams, passthrough: settings.passthrough }, 'live ingest listening');

  let stopped: Promise<void> | undefined;
  return {
    rtmp,
    instance,
    get streams() {
      return streams.size;
    },
    stop() {
      stopped ??= (async () => {
        await sweep.stop();
        await server.close();
        await Promise.all([...streams.values()].map((s) => s.shutdown()));
      })();
      return stopped;
    },
  };
}
