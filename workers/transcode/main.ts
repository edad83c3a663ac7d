import { hostname } from 'node:os';
import { createAwsClients, destroyAwsClients } from '../../core/aws.ts';
import { serveRoleMetrics } from '../../core/metrics.ts';
import { resolveResources } from '../../core/resources.ts';
import { runRole } from '../../core/run-role.ts';
import { isGo, STANDBY_ARG, tellSupervisor } from '../../core/worker-ipc.ts';
import { parentDeathLauncher } from './ffmpeg/death-signal.ts';
import { locateFfmpeg } from '../../core/ffmpeg/locate.ts';
import { createTranscodeWorker } from './create-worker.ts';
import { WorkerMetrics } from './metrics.ts';

function reportState(busy: number, concurrency: number): void {
  tellSupervisor({ type: 'reelay.worker.state', busy, concurrency });
}

/**
 * A standby worker (forked by the supervisor with STANDBY_ARG and IPC) gets everything ready, says so,
 * and takes no job until the supervisor sends GO: a scale-up then costs no start-up.
 */
function standbyUntilGo(): Promise<void> | undefined {
  if (!process.argv.includes(STANDBY_ARG) || !process.send) return undefined;
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (!isGo(message)) return;
      process.off('message', onMessage);
      resolve();
    };
    process.on('message', onMessage);
  });
}
const goSignal = standbyUntilGo();

await runRole('worker', async ({ config, logger }) => {
  const metrics = new WorkerMetrics();
  // Several workers share a host under the supervisor, which starts them with port 0 unless told otherwise.
  const metricsServer = await serveRoleMetrics({ registry: metrics.registry, role: 'worker', settings: config.metrics, logger });
  const binaries = locateFfmpeg(config.ffmpeg);
  logger.info({ ffmpeg: binaries.ffmpeg, ffprobe: binaries.ffprobe }, 'using ffmpeg');
  // ffmpeg dies with this process, even on SIGKILL, where the OS allows it.
  const launcher = await parentDeathLauncher(binaries.ffmpeg.path, config.worker.tmpDir, config.ffmpeg.searchPath);
  const runBinaries = launcher ? { ...binaries, ffmpeg: { ...binaries.ffmpeg, path: launcher.path } } : binaries;
  const clients = createAwsClients(config.aws, logger);
  const resources = await resolveResources(clients, config.prefix);
  const worker = createTranscodeWorker({
    config,
    clients,
    resources,
    binaries: runBinaries,
    workerId: `${hostname()}:${process.pid}`,
    logger,
    // Under the supervisor (forked with IPC), report how many jobs are in hand so only idle workers are stopped.
    onBusyChange: (busy) => reportState(busy, config.worker.concurrency),
    metrics,
  });
  let stopping = false;
  const go = () => {
    if (stopping) return;
    worker.start();
    reportState(0, config.worker.concurrency);
  };
  if (goSignal) {
    tellSupervisor({ type: 'reelay.worker.standby' });
    logger.debug('standing by until the supervisor needs this worker');
    void goSignal.then(go);
  } else go();

  return {
    async stop() {
      stopping = true;
      await worker.stop({ graceMs: config.worker.visibilityTimeoutMs / 2 });
      await launcher?.remove();
      await metricsServer?.close();
      destroyAwsClients(clients);
    },
  };
});
