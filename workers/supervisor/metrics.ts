import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PRIORITY_TIERS } from '../../core/resources.ts';
import type { TierDepth } from './queue-depth.ts';

/** What the supervisor exposes; the numbers are set by the loop, read by `/metrics`. */
export class SupervisorMetrics {
  queueDepth: TierDepth = { high: 0, normal: 0, low: 0 };
  workers = 0;
  desired = 0;
  busy = 0;
  readonly scaleEvents = { up: 0, down: 0 };
  restarts = 0;

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: [labels: string, value: number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    metric(
      'reelay_queue_depth',
      'gauge',
      'Jobs on a tier queue, visible plus in flight, at the last poll.',
      PRIORITY_TIERS.map((tier) => [`{tier="${tier}"}`, this.queueDepth[tier]]),
    );
    metric('reelay_workers', 'gauge', 'Worker processes running and not being stopped.', [['', this.workers]]);
    metric('reelay_workers_desired', 'gauge', 'Worker processes the scaling rule asks for.', [['', this.desired]]);
    metric('reelay_workers_busy', 'gauge', 'Worker processes holding a job (or not reported yet).', [['', this.busy]]);
    metric('reelay_scale_events_total', 'counter', 'Scaling actions taken, by direction.', [
      ['{direction="up"}', this.scaleEvents.up],
      ['{direction="down"}', this.scaleEvents.down],
    ]);
    metric('reelay_worker_restarts_total', 'counter', 'Worker processes that exited unexpectedly.', [['', this.restarts]]);
    return lines.join('\n') + '\n';
  }
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** `GET /metrics` (Prometheus text) and `GET /healthz` on host:port; port 0 picks a free one. */
export function startMetricsServer({ metrics, host, port }: { metrics: SupervisorMetrics; host: string; port: number }): Promise<MetricsServer> {
  const server: Server = createServer(function supervisorHttp(req, res) {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics.render());
    } else if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', workers: metrics.workers, desired: metrics.desired }));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`REELAY_SUPERVISOR_PORT ${port} is already in use: set REELAY_SUPERVISOR_PORT to a free port (0 picks one)`, { cause: err })
          : err,
      );
    });
    server.listen(port, host, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
