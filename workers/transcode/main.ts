import { hostname } from 'node:os';
import { createAwsClients, destroyAwsClients } from '../../core/aws.ts';
import { EventPublisher } from '../../core/events.ts';
import { resolveResources } from '../../core/resources.ts';
import { runRole } from '../../core/run-role.ts';
import { StatusStore } from '../../core/status-store.ts';
import { parentDeathLauncher } from './ffmpeg/death-signal.ts';
import { locateFfmpeg } from './ffmpeg/locate.ts';
import { TranscodeWorker } from './worker.ts';

function reportState(busy: number, concurrency: number): void {
  if (process.send && process.connected) process.send({ type: 'reelay.worker.state', busy, concurrency });
}

// Forked by the supervisor: when it goes away (even SIGKILLed), stop gracefully instead of running on unmanaged.
if (process.send) process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));

await runRole('worker', async ({ config, logger }) => {
  const binaries = locateFfmpeg(config.ffmpeg);
  logger.info({ ffmpeg: binaries.ffmpeg, ffprobe: binaries.ffprobe }, 'using ffmpeg');
  // ffmpeg dies with this process, even on SIGKILL, where the OS allows it.
  const launcher = await parentDeathLauncher(binaries.ffmpeg.path, config.worker.tmpDir);
  const runBinaries = launcher ? { ...binaries, ffmpeg: { ...binaries.ffmpeg, path: launcher.path } } : binaries;
  const clients = createAwsClients(config.aws, logger);
  const resources = await resolveResources(clients, config.prefix);
  const worker = new TranscodeWorker({
    sqs: clients.sqs,
    queueUrls: resources.tierQueueUrl,
    dlqUrls: resources.tierDlqUrl,
    concurrency: config.worker.concurrency,
    visibilityTimeoutMs: config.worker.visibilityTimeoutMs,
    heartbeatMs: config.worker.heartbeatMs,
    maxAttempts: config.worker.maxAttempts,
    pollWaitSeconds: config.worker.pollWaitSeconds,
    fairnessEvery: config.worker.fairnessEvery,
    retryBaseDelayMs: config.worker.retryBaseDelayMs,
    transcode: {
      s3: clients.s3,
      store: new StatusStore(clients.s3, resources.names.mediaBucket),
      events: new EventPublisher(clients.sns, resources),
      rawBucket: resources.names.rawBucket,
      mediaBucket: resources.names.mediaBucket,
      binaries: runBinaries,
      preset: config.ffmpeg.preset,
      threads: config.ffmpeg.threads,
      niceness: config.ffmpeg.niceness,
      tmpDir: config.worker.tmpDir,
      limits: config.limits,
      stallTimeoutMs: config.worker.stallTimeoutMs,
      jobTimeoutFactor: config.worker.jobTimeoutFactor,
      jobTimeoutMinMs: config.worker.jobTimeoutMinMs,
      workerId: `${hostname()}:${process.pid}`,
      logger,
    },
    // Under the supervisor (forked with IPC), report how many jobs are in hand so only idle workers are stopped.
    onBusyChange: (busy) => reportState(busy, config.worker.concurrency),
    logger,
  }).start();
  reportState(0, config.worker.concurrency);

  return {
    async stop() {
      await worker.stop({ graceMs: config.worker.visibilityTimeoutMs / 2 });
      await launcher?.remove();
      destroyAwsClients(clients);
    },
  };
});
