import { STANDBY_ARG, tellSupervisor } from '../../core/worker-ipc.ts';

/**
 * A stand-in for workers/transcode/main.ts that speaks only its IPC protocol with the supervisor, for tests of
 * the supervisor's own process handling (no jobs): an active worker reports itself idle and runs until
 * SIGTERM; a standby (STANDBY_ARG) exits with code 3 before it is ready, as one that cannot start, or with
 * FAKE_STANDBY=hang never gets ready and ignores SIGTERM, as one stuck while starting.
 */
if (process.argv.includes(STANDBY_ARG) && process.env.FAKE_STANDBY === 'hang') {
  process.on('SIGTERM', () => undefined);
  setInterval(() => undefined, 60_000);
} else if (process.argv.includes(STANDBY_ARG)) {
  setTimeout(() => process.exit(3), 50);
} else {
  tellSupervisor({ type: 'reelay.worker.state', busy: 0, concurrency: 1 });
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
}
