import { createAwsClients, destroyAwsClients } from '../../core/aws.ts';
import { Counter, createMetricsRegistry, Gauge, Histogram, serveRoleMetrics } from '../../core/metrics.ts';
import { resolveResources } from '../../core/resources.ts';
import { runRole } from '../../core/run-role.ts';
import { locateFfmpeg } from '../../core/ffmpeg/locate.ts';
import { startLiveIngest } from './live-ingest.ts';

await runRole('live', async ({ config, logger }) => {
  const registry = createMetricsRegistry('live');
  const refused = new Counter({
    name: 'reelay_live_publishes_refused_total',
    help: 'Publishes refused before any media, by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  const failed = new Counter({
    name: 'reelay_live_streams_failed_total',
    help: 'Streams refused after their key was accepted (live.failed), by code.',
    labelNames: ['code'],
    registers: [registry],
  });
  const streams = new Gauge({
    name: 'reelay_live_streams',
    help: 'Channels held by this ingest: publishing, starting or in their reconnect grace.',
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'reelay_live_segment_latency_seconds',
    help: "From a segment's first frame going into ffmpeg to the segment being listed in the live playlist.",
    labelNames: ['rendition'],
    buckets: [0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 20],
    registers: [registry],
  });
  const metrics = await serveRoleMetrics({ registry, role: 'live', settings: config.metrics, logger });
  const binaries = locateFfmpeg(config.ffmpeg);
  logger.info({ ffmpeg: binaries.ffmpeg }, 'using ffmpeg');
  const clients = createAwsClients(config.aws, logger);
  const resources = await resolveResources(clients, config.prefix);
  const ingest = await startLiveIngest({
    config,
    clients,
    resources,
    ffmpegPath: binaries.ffmpeg.path,
    logger,
    hooks: {
      onRefused: (reason) => refused.inc({ reason }),
      onFailed: (code) => failed.inc({ code }),
      onStreams: (count) => streams.set(count),
      onListed: (segment) => {
        if (segment.latencyMs !== undefined) latency.observe({ rendition: segment.rendition }, segment.latencyMs / 1000);
        logger.debug({ ...segment }, 'live segment listed');
      },
    },
  });
  // The bound port (REELAY_LIVE_RTMP_PORT=0 picks a free one): for whoever started this process.
  if (process.send && process.connected) process.send({ type: 'reelay.live.listening', rtmp: ingest.rtmp });
  return {
    async stop() {
      await ingest.stop();
      await metrics?.close();
      destroyAwsClients(clients);
    },
  };
});
