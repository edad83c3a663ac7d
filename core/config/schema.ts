/**
 * What the configuration is: every setting reelay has, typed, with its unit and default where it is
 * read (core/config/load.ts). Durations are milliseconds and sizes bytes by then.
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
  /** Log lines: `REELAY_LOG_LEVEL` (default info) and `REELAY_LOG_FORMAT` (default auto: pretty on a terminal, else JSON). */
  log: { level: string; format: LogFormat };
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
    /**
     * Interruptions a job may have on top of its attempts: an attempt whose worker process died without
     * reporting (killed, crashed, host lost) is not a failed attempt, but a file that kills its worker every
     * time must still end `failed` (REELAY_MAX_STALLS, default 5).
     */
    maxStalls: number;
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
    /** `FFMPEG_PATH`/`FFPROBE_PATH`: these binaries; unset: the first on `searchPath`, else the npm packages' static builds. */
    ffmpegPath: string | undefined;
    ffprobePath: string | undefined;
    /** `PATH`: where ffmpeg, ffprobe and the parent-death launcher's setpriv/setsid are looked for. */
    searchPath: string | undefined;
    /** x264 preset for every rendition. */
    preset: string;
    /** ffmpeg `-threads`; 0 lets ffmpeg decide. */
    threads: number;
    /** Scheduling priority of ffmpeg (`nice`), 0–19; 0 by default: a niced transcode loses to any other load on the host (bench: issue 12). */
    niceness: number;
    /**
     * `REELAY_FIRST_SEGMENT_SECONDS` (1 | 2 | 4, default 1): length of the first HLS segments, so a video is
     * playable while it encodes as soon as possible. 1: keyframes at 0, 1, 2 s, then every 4 s (segments of
     * 1, 1, 2, 4, 4 … s); 2: at 0, 2, then every 4 s; 4: the plain 4 s grid.
     */
    firstSegmentSeconds: 1 | 2 | 4;
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
    /** `POST /v1/webhooks/:id/redeliver` calls per minute per API key (per API process), burst 2; 0 = unlimited. */
    redeliverPerMinute: number;
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
  live: LiveSettings;
  /**
   * `/metrics` and `/healthz` of the roles that serve no HTTP of their own (the API serves them on PORT,
   * the supervisor on `supervisor.port`, on the same `host`).
   */
  metrics: {
    /** `REELAY_METRICS_HOST` (default 127.0.0.1; 0.0.0.0 in a container that Prometheus scrapes from outside). */
    host: string;
    /** Each role's port (see METRICS_PORTS): 0 picks a free one, `off` serves none. */
    ports: Record<MetricsRole, number | 'off'>;
  };
  /** The CDK app (infra/cdk): the image its tasks run, and the account and region the CDK CLI sets for it. */
  cdk: {
    /** `REELAY_IMAGE` (default `reelay:latest`). */
    image: string;
    /** `CDK_DEFAULT_ACCOUNT`: unset, the stack is environment-agnostic. */
    account: string | undefined;
    /** `CDK_DEFAULT_REGION` (default: the AWS region). */
    region: string;
  };
}

/** `auto`: pretty one-liners on a terminal, JSON lines otherwise (services, log shippers). */
export type LogFormat = 'auto' | 'json' | 'pretty';

/** The roles whose `/metrics` port is set in `metrics.ports`. */
export type MetricsRole = 'worker' | 'webhooks' | 'notifier' | 'live';

/** The variable that sets each role's metrics port, and its default (one port per role, so they share a host). */
export const METRICS_PORTS: Record<MetricsRole, { variable: string; fallback: number }> = {
  worker: { variable: 'REELAY_WORKER_METRICS_PORT', fallback: 9465 },
  webhooks: { variable: 'REELAY_WEBHOOKS_METRICS_PORT', fallback: 9466 },
  notifier: { variable: 'REELAY_NOTIFIER_METRICS_PORT', fallback: 9467 },
  live: { variable: 'REELAY_LIVE_METRICS_PORT', fallback: 9468 },
};

/** The live ingest role (`workers/live/`): RTMP in, a live HLS ladder and the recording out. */
export interface LiveSettings {
  /** `REELAY_LIVE_HOST` (default 127.0.0.1; 0.0.0.0 to take encoders from other machines): the RTMP listener's address. */
  host: string;
  /** `REELAY_LIVE_RTMP_PORT` (default 1935, 0 = any free port). */
  rtmpPort: number;
  /** `REELAY_LIVE_RTMP_URL`: the publish URL shown to clients (`ingest.rtmp`), without the stream key. */
  rtmpUrl: string;
  /** `REELAY_LIVE_MAX_CONNECTIONS` (default 64): RTMP connections open at once, publishing or not, per process. */
  maxConnections: number;
  /** `REELAY_LIVE_MAX_STREAMS` (default 4): streams transcoded at once per process; more publishers are refused. */
  maxStreams: number;
  /** `REELAY_LIVE_RECONNECT_GRACE_SECONDS` (default 10): a publisher back within this long continues the session, ms. */
  reconnectGraceMs: number;
  /** `REELAY_LIVE_STALL_SECONDS` (default 5): a publisher that sends no media for this long is disconnected, ms. */
  stallMs: number;
  /** `REELAY_LIVE_DVR_SECONDS` (default 120): how far back a viewer can seek; the live playlists list this much, ms. */
  dvrWindowMs: number;
  /** `REELAY_LIVE_PASSTHROUGH` (default true): a sensible H.264/AAC source is the top rung as it is, not re-encoded. */
  passthrough: boolean;
  /** `REELAY_LIVE_X264_PRESET` (default veryfast): x264 preset of the encoded rungs. */
  preset: string;
  /** `REELAY_LIVE_MAX_BITRATE_KBPS` (default 20000): a publisher sending more on average over 10 s is refused. */
  maxBitrateKbps: number;
  /** `REELAY_LIVE_MAX_PIXELS` (default 1920×1080): the largest accepted picture, width × height. */
  maxPixels: number;
  /** `REELAY_LIVE_MAX_FRAME_RATE` (default 60). */
  maxFrameRate: number;
  /** `REELAY_LIVE_LEASE_SECONDS` (default 15): a stream's lease; renewed every third of it, taken over once it lapses, ms. */
  leaseMs: number;
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

/** The defaults of REELAY_MAX_DURATION_SECONDS, REELAY_MAX_PIXELS and REELAY_MAX_FRAME_RATE. */
export const DEFAULT_MEDIA_LIMITS: Config['limits'] = { maxDurationSeconds: 4 * 3600, maxPixels: 8192 * 4320, maxFrameRate: 960 };

/** One API key and the tenant it acts for (`tenant:key`; a bare key is tenant `default`'s). */
export interface ApiKey {
  tenant: string;
  key: string;
}

/**
 * How long stopping the supervisor waits for its workers before killing them,
 * ms: a worker finishes its job for up to half the visibility timeout (then
 * hands it back), waits out its long polls, and needs a moment to exit.
 */
export function workerStopTimeoutMs(worker: { visibilityTimeoutMs: number; pollWaitSeconds: number }): number {
  return worker.visibilityTimeoutMs / 2 + worker.pollWaitSeconds * 1000 + 10_000;
}
