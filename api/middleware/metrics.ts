import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, createMetricsRegistry, Gauge, Histogram, type Registry } from '../../core/metrics.ts';

/**
 * The API's Prometheus metrics (prom-client), plus the default process
 * metrics: requests by route pattern and status, uploads, realtime clients.
 * Served at `GET /metrics` behind the same authentication as the API.
 */
export class ApiMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly requestSeconds: Histogram<'method' | 'route'>;
  readonly uploadBytes: Counter;
  readonly uploadSeconds: Histogram<'result'>;
  readonly uploadsInFlight: Gauge;
  readonly realtimeClients: Gauge<'transport'>;
  private readonly clientCounts = new Map<string, () => number>();

  constructor(registry: Registry = createMetricsRegistry('api')) {
    this.registry = registry;
    const registers = [registry];
    this.requests = new Counter({
      name: 'reelay_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern (e.g. /v1/videos/:id) and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'reelay_http_request_duration_seconds',
      help: 'Time to answer an HTTP request (to the end of its handler; a stream counts until its headers), by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.uploadBytes = new Counter({ name: 'reelay_upload_bytes_total', help: 'Bytes of uploads stored in the raw bucket.', registers });
    this.uploadSeconds = new Histogram({
      name: 'reelay_upload_duration_seconds',
      help: 'Time to stream one upload into S3, by result (stored or failed).',
      labelNames: ['result'],
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers,
    });
    this.uploadsInFlight = new Gauge({ name: 'reelay_uploads_in_flight', help: 'Uploads being streamed into S3 right now.', registers });
    const clientCounts = this.clientCounts;
    this.realtimeClients = new Gauge({
      name: 'reelay_realtime_clients',
      help: 'Open realtime connections (transport="sse" for GET /v1/events, "websocket" for GET /v1/ws).',
      labelNames: ['transport'],
      registers,
      collect() {
        for (const [transport, count] of clientCounts) this.set({ transport }, count());
      },
    });
  }

  /** Times one upload into S3; `store` resolves with its byte count. */
  async timeUpload<T extends { bytes: number }>(store: () => Promise<T>): Promise<T> {
    const started = performance.now();
    this.uploadsInFlight.inc();
    try {
      const stored = await store();
      this.uploadBytes.inc(stored.bytes);
      this.uploadSeconds.observe({ result: 'stored' }, (performance.now() - started) / 1000);
      return stored;
    } catch (err) {
      this.uploadSeconds.observe({ result: 'failed' }, (performance.now() - started) / 1000);
      throw err;
    } finally {
      this.uploadsInFlight.dec();
    }
  }

  /** Reports a realtime transport's open connections at every scrape. */
  countClients(transport: 'sse' | 'websocket', count: () => number): void {
    this.clientCounts.set(transport, count);
  }

  /** Counts and times every request by its route pattern (not its path, so ids do not explode the label set). */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const started = performance.now();
      try {
        await next();
      } finally {
        const route = matchedRoute(c);
        this.requests.inc({ method: c.req.method, route, status: String(c.res.status) });
        this.requestSeconds.observe({ method: c.req.method, route }, (performance.now() - started) / 1000);
      }
    };
  }

  /** `GET /metrics`. */
  async handler(c: Context): Promise<Response> {
    return c.body(await this.registry.metrics(), 200, { 'content-type': this.registry.contentType });
  }
}

/** The pattern of the handler that answered (the last matched route), or "unmatched" for a 404 of no route. */
function matchedRoute(c: Context): string {
  const path = routePath(c, -1);
  return !path || path === '/*' || path === '*' ? 'unmatched' : path;
}
