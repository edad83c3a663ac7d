import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { METRICS_PORTS, type Config, type MetricsRole } from './config/index.ts';

export { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * How often the event-loop lag histogram samples, ms. prom-client's default (10) wakes every process 100
 * times a second: ~0.5 % of a core each, measured, which the idle roles of `npm start` took from ffmpeg.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * One Prometheus registry per process (prom-client), with Node's default
 * process metrics (CPU, memory, event-loop lag, GC, handles). Series carry no
 * role label (Prometheus's `job` label names the role); `reelay_role_info`
 * says which role a target is.
 */
export function createMetricsRegistry(role: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  new Gauge({
    name: 'reelay_role_info',
    help: 'Always 1; the role label names what this process is.',
    labelNames: ['role'],
    registers: [registry],
  }).set({ role }, 1);
  return registry;
}

/** Seconds buckets for jobs and requests that last from milliseconds to an hour. */
export const DURATION_BUCKETS = [0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export interface MetricsServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics` (Prometheus text) and `GET /healthz` on host:port for the
 * roles that serve no HTTP of their own (worker, supervisor, webhook
 * dispatcher, notifier); port 0 picks a free one.
 */
export function startMetricsServer({
  registry,
  host,
  port,
  variable,
  health = () => ({ status: 'ok' }),
}: {
  registry: Registry;
  host: string;
  port: number;
  /** The variable that set the port, named in the error when it is taken. */
  variable: string;
  health?: () => Record<string, unknown>;
}): Promise<MetricsServer> {
  const server: Server = createServer(function metricsHttp(req, res) {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
      );
    } else if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(health()));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`${variable} ${port} is already in use: set ${variable} to a free port (0 picks one, "off" serves none)`, {
              cause: err,
            })
          : err,
      );
    });
    server.listen(port, host, () => {
      const actual = (server.address() as AddressInfo).port;
      resolve({
        port: actual,
        url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}/metrics`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/**
 * A role's `/metrics` as its entry point starts it, on its port from the configuration
 * (`metrics.ports`: 0 any free port, `off` none) and `metrics.host`. The URL is logged.
 */
export async function serveRoleMetrics({
  registry,
  role,
  settings,
  logger,
}: {
  registry: Registry;
  role: MetricsRole;
  settings: Config['metrics'];
  logger: { info(obj: object, msg: string): void };
}): Promise<MetricsServer | undefined> {
  const port = settings.ports[role];
  if (port === 'off') return undefined;
  const server = await startMetricsServer({ registry, host: settings.host, port, variable: METRICS_PORTS[role].variable });
  logger.info({ metrics: server.url }, 'serving Prometheus metrics');
  return server;
}
