import { Counter, createMetricsRegistry, Gauge, type Registry } from '../../core/metrics.ts';
import { PRIORITY_TIERS } from '../../core/resources.ts';
import type { TierDepth } from './queue-depth.ts';

/**
 * What the supervisor exposes (prom-client, with the default process
 * metrics); the loop sets the numbers, `/metrics` reads them.
 */
export class SupervisorMetrics {
  readonly registry: Registry = createMetricsRegistry('supervisor');
  private readonly depth = new Gauge({
    name: 'reelay_queue_depth',
    help: 'Jobs on a tier queue, visible plus in flight, at the last poll.',
    labelNames: ['tier'],
    registers: [this.registry],
  });
  private readonly workersGauge = new Gauge({
    name: 'reelay_workers',
    help: 'Worker processes running and not being stopped.',
    registers: [this.registry],
  });
  private readonly desiredGauge = new Gauge({
    name: 'reelay_workers_desired',
    help: 'Worker processes the scaling rule asks for.',
    registers: [this.registry],
  });
  private readonly busyGauge = new Gauge({
    name: 'reelay_workers_busy',
    help: 'Worker processes holding a job (or not reported yet).',
    registers: [this.registry],
  });
  private readonly standbyGauge = new Gauge({
    name: 'reelay_workers_standby',
    help: 'Worker processes started ahead and waiting to be activated by a scale-up.',
    registers: [this.registry],
  });
  private readonly scaleEvents = new Counter({
    name: 'reelay_scale_events_total',
    help: 'Scaling actions taken, by direction.',
    labelNames: ['direction'],
    registers: [this.registry],
  });
  private readonly restartsCounter = new Counter({
    name: 'reelay_worker_restarts_total',
    help: 'Worker processes that exited unexpectedly.',
    registers: [this.registry],
  });
  workers = 0;
  desired = 0;
  standby = 0;

  constructor() {
    for (const tier of PRIORITY_TIERS) this.depth.set({ tier }, 0);
    this.scaleEvents.inc({ direction: 'up' }, 0);
    this.scaleEvents.inc({ direction: 'down' }, 0);
  }

  setQueueDepth(depth: TierDepth): void {
    for (const tier of PRIORITY_TIERS) this.depth.set({ tier }, depth[tier]);
  }

  setWorkers({ running, busy, standby }: { running: number; busy: number; standby: number }): void {
    this.workers = running;
    this.standby = standby;
    this.workersGauge.set(running);
    this.busyGauge.set(busy);
    this.standbyGauge.set(standby);
  }

  setDesired(desired: number): void {
    this.desired = desired;
    this.desiredGauge.set(desired);
  }

  scaled(direction: 'up' | 'down'): void {
    this.scaleEvents.inc({ direction });
  }

  restarted(): void {
    this.restartsCounter.inc();
  }
}
