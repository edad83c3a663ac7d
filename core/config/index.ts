/**
 * The configuration: the one place that reads the environment. Everything else receives a typed
 * `Config`, parsed once at start by `loadConfig` (a bad value stops start-up naming the variable).
 * - schema.ts: what the settings are (types, defaults that others share, derived values);
 * - load.ts: the environment → `Config` (every variable, its default and its bounds);
 * - access.ts: API keys, token and encryption secrets, CORS origins;
 * - reader.ts: how one variable is read (whole numbers, sizes, URLs, one of a list).
 */
export { childEnvironment, loadConfig, loadConfigOrExit } from './load.ts';
export { parseBytes, type Env } from './reader.ts';
export {
  DEFAULT_MEDIA_LIMITS,
  METRICS_PORTS,
  workerStopTimeoutMs,
  type ApiKey,
  type Config,
  type LiveSettings,
  type LogFormat,
  type MetricsRole,
  type SupervisorSettings,
} from './schema.ts';
