import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from './errors.ts';
import { parseSecretsKey } from './webhooks/secret-box.ts';
import { DEFAULT_TENANT, isTenant } from './tenants.ts';

/**
 * The one place that reads the environment. Everything else receives a typed
 * `Config`. Durations are converted to milliseconds and sizes to bytes here.
 */
export interface Config {
  aws: {
    /** `AWS_ENDPOINT_URL`: an S3/SQS/SNS-compatible endpoint (emulator, LocalStack). Unset: real AWS. */
    endpoint: string | undefined;
    region: string;
    /** Credentials to use when talking to a local endpoint with none configured (`test`/`test`). */
    localCredentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  };
  /** `REELAY_PREFIX`: prefix of every bucket, queue and topic name. */
  prefix: string;
  logLevel: string;
  /** `REELAY_DATA_DIR`: where the embedded emulator keeps its state. */
  dataDir: string;
  emulatorPort: number;
  api: {
    host: string;
    port: number;
    /** Largest accepted upload body, bytes. */
    maxUploadBytes: number;
    /** Whether REELAY_MAX_UPLOAD_BYTES was set (the dev stack lowers the default for the embedded emulator). */
    maxUploadBytesSet: boolean;
    /** `redirect` to a presigned URL, or `stream` the object through the API. */
    outputDelivery: 'redirect' | 'stream';
    /**
     * HLS segments and storyboard sprites: `stream` through the API (works with any bucket), or `redirect`
     * to presigned URLs (needs a CORS rule on the media bucket, as players fetch segments with XHR).
     */
    playbackDelivery: 'redirect' | 'stream';
    presignTtlSeconds: number;
    /**
     * `keys`: every route but /healthz needs `Authorization: Bearer <key>`. `none`: open, chosen
     * explicitly with REELAY_AUTH=none. `unconfigured`: no keys and no choice; the API refuses to start.
     */
    auth: { mode: 'keys' | 'none' | 'unconfigured'; keys: ApiKey[] };
    /** Uploads per minute per API key (token bucket, per API process); 0 = no limit. */
    uploadRatePerMinute: number;
    /** Uploads a key may make at once before the rate applies. */
    uploadBurst: number;
    /** A client that sends nothing for this long is disconnected, ms. */
    idleTimeoutMs: number;
    /** `REELAY_TOKEN_SECRET`: HMAC key of the scoped tokens (`POST /v1/tokens`); unset: no tokens are issued or accepted. */
    tokenSecret: string | undefined;
    /** `REELAY_CORS_ORIGINS`: browser origins allowed to call the API and PUT upload parts to the raw bucket. */
    corsOrigins: string[];
    /** An upload body slower than `bytesPerSecond` on average over `windowMs` is cut off (408); 0 = no minimum. */
    uploadMinRate: { bytesPerSecond: number; windowMs: number };
    /** Uploads in progress at once per API key (per API process); 0 = no limit. */
    maxConcurrentUploads: number;
    /** Open event streams (SSE, WebSocket) at once per API key (per API process); 0 = no limit. */
    maxStreams: number;
    /** Live channel starts and ends per minute per API key (per API process); 0 = no limit. */
    channelRatePerMinute: number;
  };
  /** What an upload may be; anything beyond is a permanent failure before transcoding. */
  limits: {
    maxDurationSeconds: number;
    /** Largest width × height of the source picture. */
    maxPixels: number;
    maxFrameRate: number;
  };
  worker: {
    /** Jobs one worker process runs at once. */
    concurrency: number;
    /** SQS visibility timeout given to a received job, ms. */
    visibilityTimeoutMs: number;
    /** How often the visibility of a job in hand is extended, ms (shorter than the visibility timeout). */
    heartbeatMs: number;
    /** Attempts before a job is dead-lettered and the video marked failed. */
    maxAttempts: number;
    /** SQS long-poll wait, seconds (0–20). */
    pollWaitSeconds: number;
    /** One poll cycle in N starts from the lowest tier, so low tiers are never starved. */
    fairnessEvery: number;
    /** First retry delay after a transient failure, ms (doubles each attempt). */
    retryBaseDelayMs: number;
    tmpDir: string;
    /** A transcode with no progress for this long is killed (a failed attempt), ms. */
    stallTimeoutMs: number;
    /** A transcode may run at most max(jobTimeoutMinMs, duration × jobTimeoutFactor). */
    jobTimeoutFactor: number;
    jobTimeoutMinMs: number;
    /** Keep the raw upload once the outputs are ready (REELAY_KEEP_SOURCE, default true); false deletes it then. */
    keepSource: boolean;
  };
  ffmpeg: {
    ffmpegPath: string | undefined;
    ffprobePath: string | undefined;
    /** x264 preset for every rendition. */
    preset: string;
    /** ffmpeg `-threads`; 0 lets ffmpeg decide. */
    threads: number;
    /** Scheduling priority of ffmpeg (`nice`), 0–19; 0 by default: a niced transcode loses to any other load on the host (bench: issue 12). */
    niceness: number;
  };
  /**
   * `REELAY_SECRETS_KEY` (64 hex characters): encrypts webhook signing secrets at rest. Without it, an API
   * with API keys answers 503 to webhook registration (nothing else needs it); without keys secrets are stored plain.
   */
  secretsKey: Buffer | undefined;
  webhooks: {
    /** `REELAY_WEBHOOK_ALLOW_PRIVATE`: allow endpoints on loopback, private and link-local addresses (local development, tests). */
    allowPrivate: boolean;
    /** Delivery attempts of one event to one endpoint before it is dead-lettered. */
    maxAttempts: number;
    /** Wait before the first retry, ms (doubles each attempt, at most 6 h). */
    retryBaseDelayMs: number;
    /** Time limit of one delivery request, response included, ms. */
    timeoutMs: number;
    /** Endpoints one tenant may register. */
    maxEndpoints: number;
    /** An endpoint whose every delivery failed for this long is disabled, ms; 0 = never. */
    disableAfterMs: number;
  };
  realtime: {
    /** Comment line sent on an idle SSE stream this often, ms (default 15 s, at most half the idle timeout). */
    heartbeatMs: number;
    /** Recent events each API process keeps for `Last-Event-ID` resumption and `GET /v1/notifications`. */
    bufferSize: number;
    /** A realtime queue whose owner has not refreshed its heartbeat tag for this long is deleted, ms. */
    orphanAfterMs: number;
  };
  /**
   * The supervisor's knobs. The same numbers feed the cloud definitions
   * (infra/cloud/generate.ts), so local and cloud scaling agree.
   */
  supervisor: SupervisorSettings;
}

export interface SupervisorSettings {
  /** `REELAY_WORKERS_MIN` (default 1): worker processes kept running even with an empty queue. */
  minWorkers: number;
  /** `REELAY_WORKERS_MAX` (default 2, one per core here): never more worker processes than this. */
  maxWorkers: number;
  /** `REELAY_JOBS_PER_WORKER` (default 2): queued + in-flight jobs one worker is expected to carry. */
  jobsPerWorker: number;
  /**
   * `REELAY_WORKERS_STANDBY` (default 1): worker processes started ahead and kept ready, not polling, while fewer
   * than the maximum run; a scale-up activates one at once instead of waiting for a new process to start.
   */
  standbyWorkers: number;
  /** `REELAY_SUPERVISOR_POLL_SECONDS` (default 5): how often the queue depth is read, ms. */
  pollMs: number;
  /** `REELAY_SCALE_DOWN_COOLDOWN_SECONDS` (default 60): how long fewer workers must suffice before one is stopped, ms. */
  scaleDownCooldownMs: number;
  /** `REELAY_SUPERVISOR_PORT` (default 9464, 0 = any free port): `/metrics` and `/healthz`, on 127.0.0.1. */
  port: number;
}

type Env = Record<string, string | undefined>;

/** The defaults of REELAY_MAX_DURATION_SECONDS, REELAY_MAX_PIXELS and REELAY_MAX_FRAME_RATE. */
export const DEFAULT_MEDIA_LIMITS: Config['limits'] = { maxDurationSeconds: 4 * 3600, maxPixels: 8192 * 4320, maxFrameRate: 960 };

/** One API key and the tenant it acts for (`tenant:key`; a bare key is tenant `default`'s). */
export interface ApiKey {
  tenant: string;
  key: string;
}

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

  const config: Config = {
    aws: {
      endpoint,
      region: r.str('AWS_REGION', env.AWS_DEFAULT_REGION || 'us-east-1', /^[a-z]{2}(-[a-z]+)+-\d+$/),
      localCredentials: endpoint && !hasCreds ? { accessKeyId: 'test', secretAccessKey: 'test' } : undefined,
    },
    prefix: r.str('REELAY_PREFIX', 'reelay', /^[a-z0-9][a-z0-9-]{0,39}$/, 'lowercase letters, digits and dashes, at most 40 characters'),
    logLevel: r.oneOf('REELAY_LOG_LEVEL', 'info', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
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
      preset: r.oneOf('REELAY_X264_PRESET', 'veryfast', X264_PRESETS),
      threads: r.int('REELAY_FFMPEG_THREADS', 0, 0, 64),
      niceness: r.int('REELAY_FFMPEG_NICENESS', 0, 0, 19),
    },
    secretsKey: readSecretsKey(r, problems),
    webhooks: {
      allowPrivate: r.oneOf('REELAY_WEBHOOK_ALLOW_PRIVATE', 'false', ['true', 'false']) === 'true',
      maxAttempts: r.int('REELAY_WEBHOOK_MAX_ATTEMPTS', 8, 1, 25),
      retryBaseDelayMs: r.int('REELAY_WEBHOOK_RETRY_BASE_SECONDS', 30, 1, 3600) * 1000,
      timeoutMs: r.int('REELAY_WEBHOOK_TIMEOUT_SECONDS', 10, 1, 60) * 1000,
      maxEndpoints: r.int('REELAY_WEBHOOK_MAX_ENDPOINTS', 20, 1, 1000),
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
 * How long stopping the supervisor waits for its workers before killing them,
 * ms: a worker finishes its job for up to half the visibility timeout (then
 * hands it back), waits out its long polls, and needs a moment to exit.
 */
export function workerStopTimeoutMs(worker: { visibilityTimeoutMs: number; pollWaitSeconds: number }): number {
  return worker.visibilityTimeoutMs / 2 + worker.pollWaitSeconds * 1000 + 10_000;
}

/** A key shorter than this is refused: keys are secrets, not passwords to remember. */
const MIN_KEY_LENGTH = 16;

/**
 * API keys from REELAY_API_KEYS (comma-separated) and/or REELAY_API_KEYS_FILE (one a line, # comments).
 * An entry `tenant:key` acts for that tenant; a bare key for `default`.
 */
function readAuth(r: Reader, problems: string[]): Config['api']['auth'] {
  const entries = (r.optional('REELAY_API_KEYS') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const file = r.optional('REELAY_API_KEYS_FILE');
  if (file) {
    try {
      entries.push(
        ...readFileSync(file, 'utf8')
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#')),
      );
    } catch (err) {
      problems.push(`REELAY_API_KEYS_FILE=${JSON.stringify(file)} cannot be read: ${(err as Error).message}`);
    }
  }
  const keys: ApiKey[] = [];
  const badTenants = new Set<string>();
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const tenant = colon < 0 ? DEFAULT_TENANT : entry.slice(0, colon);
    if (!isTenant(tenant)) badTenants.add(tenant.slice(0, 40));
    keys.push({ tenant, key: colon < 0 ? entry : entry.slice(colon + 1) });
  }
  if (badTenants.size > 0) {
    problems.push(
      `REELAY_API_KEYS: tenant name(s) ${[...badTenants].map((t) => JSON.stringify(t)).join(', ')} invalid: expected lowercase letters, digits and "-", at most 32 characters (write tenant:key)`,
    );
  }
  const short = keys.filter(({ key }) => key.length < MIN_KEY_LENGTH || /\s/.test(key));
  if (short.length > 0)
    problems.push(`REELAY_API_KEYS: ${short.length} key(s) shorter than ${MIN_KEY_LENGTH} characters or containing spaces`);
  const unique = new Map<string, ApiKey>();
  for (const entry of keys) {
    const seen = unique.get(entry.key);
    if (seen && seen.tenant !== entry.tenant)
      problems.push(`REELAY_API_KEYS: one key is given to two tenants (${seen.tenant} and ${entry.tenant})`);
    unique.set(entry.key, entry);
  }
  const chosen = r.optional('REELAY_AUTH');
  if (chosen !== undefined && chosen !== 'keys' && chosen !== 'none') {
    problems.push(`REELAY_AUTH=${JSON.stringify(chosen)} is invalid: expected keys or none`);
  }
  if (chosen === 'keys' && keys.length === 0) problems.push('REELAY_AUTH=keys needs REELAY_API_KEYS or REELAY_API_KEYS_FILE');
  if (chosen === 'none' && keys.length > 0) problems.push('REELAY_AUTH=none contradicts the REELAY_API_KEYS that are set');
  if (chosen === 'none') return { mode: 'none', keys: [] };
  return { mode: keys.length > 0 ? 'keys' : 'unconfigured', keys: [...unique.values()] };
}

/** REELAY_SECRETS_KEY: 32 bytes as 64 hex characters. */
function readSecretsKey(r: Reader, problems: string[]): Buffer | undefined {
  const text = r.optional('REELAY_SECRETS_KEY');
  if (text === undefined) return undefined;
  const key = parseSecretsKey(text);
  if (!key) problems.push('REELAY_SECRETS_KEY is invalid: expected 64 hex characters (32 bytes), e.g. from `openssl rand -hex 32`');
  return key;
}

/** A token secret shorter than this is refused (HS256 wants at least 256 bits). */
const MIN_TOKEN_SECRET_LENGTH = 32;

function readTokenSecret(r: Reader, problems: string[]): string | undefined {
  const secret = r.optional('REELAY_TOKEN_SECRET');
  if (secret !== undefined && secret.length < MIN_TOKEN_SECRET_LENGTH) {
    problems.push(`REELAY_TOKEN_SECRET is shorter than ${MIN_TOKEN_SECRET_LENGTH} characters (use e.g. \`openssl rand -hex 32\`)`);
  }
  return secret;
}

/** `https://app.example.com,http://localhost:5173`: exact origins (scheme, host, port), or `*`. */
function readCorsOrigins(r: Reader, problems: string[]): string[] {
  const origins = (r.optional('REELAY_CORS_ORIGINS') ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (origin === '*') continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== origin) {
      problems.push(
        `REELAY_CORS_ORIGINS: ${JSON.stringify(origin.slice(0, 100))} is not an origin such as https://app.example.com (no path, no trailing slash)`,
      );
    }
  }
  return origins;
}

/** Collects every problem instead of stopping at the first, so one start-up names them all. */
class Reader {
  private readonly env: Env;
  private readonly problems: string[];
  constructor(env: Env, problems: string[]) {
    this.env = env;
    this.problems = problems;
  }

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  str(name: string, fallback: string, pattern?: RegExp, expected?: string): string {
    const value = this.raw(name) ?? fallback;
    if (pattern && !pattern.test(value)) {
      this.problems.push(`${name}=${JSON.stringify(value)} is invalid${expected ? `: expected ${expected}` : ''}`);
    }
    return value;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || n < min || n > max) {
      this.problems.push(`${name}=${JSON.stringify(value)} is invalid: expected a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  /** A number of seconds that may have decimals (0.5). */
  decimal(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || n < min || n > max) {
      this.problems.push(`${name}=${JSON.stringify(value)} is invalid: expected a number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${name}=${JSON.stringify(value)} is invalid: expected one of ${allowed.join(', ')}`);
      return fallback;
    }
    return value as T;
  }

  url(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
      return value.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${name}=${JSON.stringify(value)} is invalid: expected an http(s) URL such as http://localhost:4566`);
      return undefined;
    }
  }

  /** Sizes: a number of bytes, or with a unit: 500MB, 2GiB, 10k. */
  bytes(name: string, fallback: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = parseBytes(value);
    if (parsed === undefined || parsed < 1) {
      this.problems.push(`${name}=${JSON.stringify(value)} is invalid: expected a size such as 1048576, 500MB or 2GiB`);
      return fallback;
    }
    return parsed;
  }
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

export function parseBytes(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = UNITS[(match[2] ?? '').toLowerCase()];
  if (unit === undefined) return undefined;
  return Math.floor(Number(match[1]) * unit);
}
