import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import { readAuth, readCorsOrigins, readSecretsKey, readTokenSecret } from './access.ts';
import { readLive } from './live.ts';
import { Reader, type Env } from './reader.ts';
import { DEFAULT_MEDIA_LIMITS, METRICS_PORTS, type Config } from './schema.ts';

const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'];

/** Parses and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const r = new Reader(env, problems);

  const endpoint = r.url('AWS_ENDPOINT_URL');
  const hasCreds = Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE);
  const visibilityTimeoutSeconds = r.int('REELAY_VISIBILITY_TIMEOUT_SECONDS', 60, 2, 43_200);
  const heartbeatSeconds = r.int('REELAY_HEARTBEAT_SECONDS', Math.max(1, Math.floor(visibilityTimeoutSeconds / 3)), 1, 43_200);
  if (heartbeatSeconds >= visibilityTimeoutSeconds) {
    problems.push(
      `REELAY_HEARTBEAT_SECONDS (${heartbeatSeconds}) must be shorter than REELAY_VISIBILITY_TIMEOUT_SECONDS (${visibilityTimeoutSeconds})`,
    );
  }

  const region = r.str('AWS_REGION', env.AWS_DEFAULT_REGION || 'us-east-1', /^[a-z]{2}(-[a-z]+)+-\d+$/);

  const config: Config = {
    aws: {
      endpoint,
      region,
      localCredentials: endpoint && !hasCreds ? { accessKeyId: 'test', secretAccessKey: 'test' } : undefined,
    },
    prefix: r.str('REELAY_PREFIX', 'reelay', /^[a-z0-9][a-z0-9-]{0,39}$/, 'lowercase letters, digits and dashes, at most 40 characters'),
    log: {
      level: r.oneOf('REELAY_LOG_LEVEL', 'info', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
      format: r.oneOf('REELAY_LOG_FORMAT', 'auto', ['auto', 'json', 'pretty'] as const, { caseless: true }),
    },
    dataDir: path.resolve(r.str('REELAY_DATA_DIR', '.reelay')),
    emulatorPort: r.int('REELAY_EMULATOR_PORT', 4566, 1, 65_535),
    api: {
      host: r.str('HOST', '127.0.0.1'),
      port: r.int('PORT', 3000, 0, 65_535),
      maxUploadBytes: r.bytes('REELAY_MAX_UPLOAD_BYTES', 5 * 1024 ** 3),
      maxUploadBytesSet: r.optional('REELAY_MAX_UPLOAD_BYTES') !== undefined,
      outputDelivery: r.oneOf('REELAY_OUTPUT_DELIVERY', 'redirect', ['redirect', 'stream'] as const),
      playbackDelivery: r.oneOf('REELAY_PLAYBACK_DELIVERY', 'stream', ['redirect', 'stream'] as const),
      presignTtlSeconds: r.int('REELAY_PRESIGN_TTL_SECONDS', 300, 1, 604_800),
      auth: readAuth(r, problems),
      uploadRatePerMinute: r.int('REELAY_UPLOAD_RATE_PER_MINUTE', 60, 0, 1_000_000),
      uploadBurst: r.int('REELAY_UPLOAD_BURST', 10, 1, 1_000_000),
      idleTimeoutMs: r.int('REELAY_IDLE_TIMEOUT_SECONDS', 60, 1, 3600) * 1000,
      tokenSecret: readTokenSecret(r, problems),
      corsOrigins: readCorsOrigins(r, problems),
      uploadMinRate: {
        bytesPerSecond: r.int('REELAY_UPLOAD_MIN_BYTES_PER_SECOND', 1024, 0, 1_000_000_000),
        windowMs: r.int('REELAY_UPLOAD_RATE_WINDOW_SECONDS', 60, 1, 3600) * 1000,
      },
      maxConcurrentUploads: r.int('REELAY_MAX_CONCURRENT_UPLOADS', 8, 0, 10_000),
      maxStreams: r.int('REELAY_MAX_STREAMS_PER_KEY', 20, 0, 100_000),
      channelRatePerMinute: r.int('REELAY_CHANNEL_RATE_PER_MINUTE', 30, 0, 1_000_000),
    },
    limits: {
      maxDurationSeconds: r.int('REELAY_MAX_DURATION_SECONDS', DEFAULT_MEDIA_LIMITS.maxDurationSeconds, 1, 7 * 24 * 3600),
      maxPixels: r.int('REELAY_MAX_PIXELS', DEFAULT_MEDIA_LIMITS.maxPixels, 1, 1_000_000_000),
      maxFrameRate: r.int('REELAY_MAX_FRAME_RATE', DEFAULT_MEDIA_LIMITS.maxFrameRate, 1, 10_000),
    },
    worker: {
      concurrency: r.int('REELAY_WORKER_CONCURRENCY', 1, 1, 64),
      visibilityTimeoutMs: visibilityTimeoutSeconds * 1000,
      heartbeatMs: heartbeatSeconds * 1000,
      maxAttempts: r.int('REELAY_MAX_ATTEMPTS', 3, 1, 100),
      maxStalls: r.int('REELAY_MAX_STALLS', 5, 1, 100),
      pollWaitSeconds: r.int('REELAY_POLL_WAIT_SECONDS', 10, 0, 20),
      fairnessEvery: r.int('REELAY_FAIRNESS_EVERY', 10, 2, 1000),
      retryBaseDelayMs: r.int('REELAY_RETRY_BASE_SECONDS', 5, 0, 3600) * 1000,
      tmpDir: path.resolve(r.str('REELAY_TMP_DIR', tmpdir())),
      stallTimeoutMs: r.int('REELAY_STALL_TIMEOUT_SECONDS', 120, 1, 86_400) * 1000,
      jobTimeoutFactor: r.int('REELAY_JOB_TIMEOUT_FACTOR', 10, 1, 1000),
      jobTimeoutMinMs: r.int('REELAY_JOB_TIMEOUT_MIN_SECONDS', 300, 1, 86_400) * 1000,
      keepSource: r.oneOf('REELAY_KEEP_SOURCE', 'true', ['true', 'false']) === 'true',
    },
    ffmpeg: {
      ffmpegPath: r.optional('FFMPEG_PATH'),
      ffprobePath: r.optional('FFPROBE_PATH'),
      searchPath: env.PATH,
      preset: r.oneOf('REELAY_X264_PRESET', 'veryfast', X264_PRESETS),
      threads: r.int('REELAY_FFMPEG_THREADS', 0, 0, 64),
      niceness: r.int('REELAY_FFMPEG_NICENESS', 0, 0, 19),
      firstSegmentSeconds: Number(r.oneOf('REELAY_FIRST_SEGMENT_SECONDS', '1', ['1', '2', '4'])) as 1 | 2 | 4,
    },
    secretsKey: readSecretsKey(r, problems),
    webhooks: {
      allowPrivate: r.oneOf('REELAY_WEBHOOK_ALLOW_PRIVATE', 'false', ['true', 'false']) === 'true',
      maxAttempts: r.int('REELAY_WEBHOOK_MAX_ATTEMPTS', 8, 1, 25),
      retryBaseDelayMs: r.int('REELAY_WEBHOOK_RETRY_BASE_SECONDS', 30, 1, 3600) * 1000,
      timeoutMs: r.int('REELAY_WEBHOOK_TIMEOUT_SECONDS', 10, 1, 60) * 1000,
      maxEndpoints: r.int('REELAY_WEBHOOK_MAX_ENDPOINTS', 20, 1, 1000),
      redeliverPerMinute: r.int('REELAY_WEBHOOK_REDELIVER_PER_MINUTE', 6, 0, 1000),
      disableAfterMs: r.int('REELAY_WEBHOOK_DISABLE_AFTER_DAYS', 5, 0, 365) * 86_400_000,
    },
    realtime: {
      // 0: not set; derived from the idle timeout below.
      heartbeatMs: r.int('REELAY_SSE_HEARTBEAT_SECONDS', 0, 1, 300) * 1000,
      bufferSize: r.int('REELAY_EVENT_BUFFER_SIZE', 1000, 10, 100_000),
      orphanAfterMs: r.int('REELAY_REALTIME_ORPHAN_MINUTES', 15, 2, 1440) * 60_000,
    },
    supervisor: {
      minWorkers: r.int('REELAY_WORKERS_MIN', 1, 0, 64),
      maxWorkers: r.int('REELAY_WORKERS_MAX', 2, 1, 64),
      jobsPerWorker: r.int('REELAY_JOBS_PER_WORKER', 2, 1, 1000),
      standbyWorkers: r.int('REELAY_WORKERS_STANDBY', 1, 0, 64),
      pollMs: Math.round(r.decimal('REELAY_SUPERVISOR_POLL_SECONDS', 5, 0.1, 3600) * 1000),
      scaleDownCooldownMs: Math.round(r.decimal('REELAY_SCALE_DOWN_COOLDOWN_SECONDS', 60, 0, 86_400) * 1000),
      port: r.int('REELAY_SUPERVISOR_PORT', 9464, 0, 65_535),
    },
    live: readLive(r, X264_PRESETS),
    metrics: {
      host: r.str('REELAY_METRICS_HOST', '127.0.0.1'),
      ports: {
        worker: r.portOrOff(METRICS_PORTS.worker.variable, METRICS_PORTS.worker.fallback),
        webhooks: r.portOrOff(METRICS_PORTS.webhooks.variable, METRICS_PORTS.webhooks.fallback),
        notifier: r.portOrOff(METRICS_PORTS.notifier.variable, METRICS_PORTS.notifier.fallback),
        live: r.portOrOff(METRICS_PORTS.live.variable, METRICS_PORTS.live.fallback),
      },
    },
    cdk: {
      image: r.str('REELAY_IMAGE', 'reelay:latest'),
      account: r.optional('CDK_DEFAULT_ACCOUNT'),
      region: r.optional('CDK_DEFAULT_REGION') ?? region,
    },
  };

  if (config.realtime.heartbeatMs === 0) {
    config.realtime.heartbeatMs = Math.min(15_000, Math.floor(config.api.idleTimeoutMs / 2));
  } else if (config.realtime.heartbeatMs >= config.api.idleTimeoutMs) {
    problems.push(
      `REELAY_SSE_HEARTBEAT_SECONDS (${config.realtime.heartbeatMs / 1000}) must be shorter than REELAY_IDLE_TIMEOUT_SECONDS (${config.api.idleTimeoutMs / 1000}), or idle event streams are cut`,
    );
  }
  if (config.supervisor.minWorkers > config.supervisor.maxWorkers) {
    problems.push(
      `REELAY_WORKERS_MIN (${config.supervisor.minWorkers}) must not be greater than REELAY_WORKERS_MAX (${config.supervisor.maxWorkers})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * `loadConfig` for an entry point: the one place a bad configuration is
 * printed (`<program>: invalid configuration: …`, every problem at once) and
 * the process exits with status 2.
 */
export function loadConfigOrExit(program: string, env: Env = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${program}: ${err.message}\n`);
    process.exit(2);
  }
}

/**
 * The environment for a process this one starts (a role, a worker): this process's own, which the
 * roles read their configuration from, over `defaults` for what it does not set.
 */
export function childEnvironment(defaults: Env = {}): NodeJS.ProcessEnv {
  return { ...defaults, ...process.env };
}
