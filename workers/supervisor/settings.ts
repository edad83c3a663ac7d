import { ConfigError } from '../../core/errors.ts';

/**
 * The supervisor's knobs, read from the environment once at start. Durations
 * are converted to milliseconds here. The same numbers feed the cloud
 * definitions (infra/cloud/generate.ts), so local and cloud scaling agree.
 */
export interface SupervisorSettings {
  /** `REELAY_WORKERS_MIN` (default 1): worker processes kept running even with an empty queue. */
  minWorkers: number;
  /** `REELAY_WORKERS_MAX` (default 2, one per core here): never more worker processes than this. */
  maxWorkers: number;
  /** `REELAY_JOBS_PER_WORKER` (default 2): queued + in-flight jobs one worker is expected to carry. */
  jobsPerWorker: number;
  /** `REELAY_SUPERVISOR_POLL_SECONDS` (default 5): how often the queue depth is read, ms. */
  pollMs: number;
  /** `REELAY_SCALE_DOWN_COOLDOWN_SECONDS` (default 60): how long fewer workers must suffice before one is stopped, ms. */
  scaleDownCooldownMs: number;
  /** `REELAY_SUPERVISOR_PORT` (default 9464, 0 = any free port): `/metrics` and `/healthz`, on 127.0.0.1. */
  port: number;
}

type Env = Record<string, string | undefined>;

/** Parses and validates the supervisor's variables; throws ConfigError naming every bad one. */
export function loadSupervisorSettings(env: Env = process.env): SupervisorSettings {
  const problems: string[] = [];
  const number = (name: string, fallback: number, min: number, max: number, { whole = true } = {}): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    const shapeOk = whole ? /^\d+$/.test(raw) : /^\d+(\.\d+)?$/.test(raw);
    if (!shapeOk || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)} is invalid: expected ${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };

  const settings: SupervisorSettings = {
    minWorkers: number('REELAY_WORKERS_MIN', 1, 0, 64),
    maxWorkers: number('REELAY_WORKERS_MAX', 2, 1, 64),
    jobsPerWorker: number('REELAY_JOBS_PER_WORKER', 2, 1, 1000),
    pollMs: Math.round(number('REELAY_SUPERVISOR_POLL_SECONDS', 5, 0.1, 3600, { whole: false }) * 1000),
    scaleDownCooldownMs: Math.round(number('REELAY_SCALE_DOWN_COOLDOWN_SECONDS', 60, 0, 86_400, { whole: false }) * 1000),
    port: number('REELAY_SUPERVISOR_PORT', 9464, 0, 65_535),
  };
  if (settings.minWorkers > settings.maxWorkers) {
    problems.push(`REELAY_WORKERS_MIN (${settings.minWorkers}) must not be greater than REELAY_WORKERS_MAX (${settings.maxWorkers})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}

/**
 * How long stopping the supervisor waits for its workers before killing them,
 * ms: a worker finishes its job for up to half the visibility timeout (then
 * hands it back), waits out its long polls, and needs a moment to exit.
 */
export function workerStopTimeoutMs(worker: { visibilityTimeoutMs: number; pollWaitSeconds: number }): number {
  return worker.visibilityTimeoutMs / 2 + worker.pollWaitSeconds * 1000 + 10_000;
}
