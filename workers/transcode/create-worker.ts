import type { AwsClients } from '../../core/aws.ts';
import type { Config } from '../../core/config/index.ts';
import { EventPublisher } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import type { ResolvedResources } from '../../core/resources.ts';
import { StatusStore } from '../../core/status-store.ts';
import type { FfmpegBinaries } from '../../core/ffmpeg/locate.ts';
import type { WorkerMetrics } from './metrics.ts';
import { TranscodeWorker } from './worker.ts';

/** A TranscodeWorker wired from the configuration: what `workers/transcode/main.ts` runs, and tests start in-process. */
export function createTranscodeWorker({
  config,
  clients,
  resources,
  binaries,
  workerId,
  logger,
  onBusyChange,
  metrics,
}: {
  config: Config;
  clients: Pick<AwsClients, 's3' | 'sqs' | 'sns'>;
  resources: ResolvedResources;
  binaries: FfmpegBinaries;
  workerId: string;
  logger: Logger;
  onBusyChange?: (busy: number) => void;
  metrics?: WorkerMetrics;
}): TranscodeWorker {
  const { worker, ffmpeg } = config;
  return new TranscodeWorker({
    sqs: clients.sqs,
    queueUrls: resources.tierQueueUrl,
    dlqUrls: resources.tierDlqUrl,
    concurrency: worker.concurrency,
    visibilityTimeoutMs: worker.visibilityTimeoutMs,
    heartbeatMs: worker.heartbeatMs,
    maxAttempts: worker.maxAttempts,
    maxStalls: worker.maxStalls,
    pollWaitSeconds: worker.pollWaitSeconds,
    fairnessEvery: worker.fairnessEvery,
    retryBaseDelayMs: worker.retryBaseDelayMs,
    transcode: {
      s3: clients.s3,
      store: new StatusStore(clients.s3, resources.names.mediaBucket),
      events: new EventPublisher(clients.sns, resources),
      rawBucket: resources.names.rawBucket,
      mediaBucket: resources.names.mediaBucket,
      binaries,
      preset: ffmpeg.preset,
      threads: ffmpeg.threads,
      niceness: ffmpeg.niceness,
      firstSegmentSeconds: ffmpeg.firstSegmentSeconds,
      tmpDir: worker.tmpDir,
      limits: config.limits,
      stallTimeoutMs: worker.stallTimeoutMs,
      keepSource: worker.keepSource,
      jobTimeoutFactor: worker.jobTimeoutFactor,
      jobTimeoutMinMs: worker.jobTimeoutMinMs,
      workerId,
      ...(metrics ? { metrics } : {}),
      logger,
    },
    ...(onBusyChange ? { onBusyChange } : {}),
    ...(metrics ? { metrics } : {}),
    logger,
  });
}
