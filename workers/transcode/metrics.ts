import { Counter, createMetricsRegistry, DURATION_BUCKETS, Histogram, type Registry } from '../../core/metrics.ts';

/** How a job's delivery ended, as counted by `reelay_jobs_total{outcome}`. */
export type JobOutcome = 'ready' | 'duplicate' | 'failed' | 'retried' | 'handed_back' | 'requeued' | 'abandoned';

/** The transcode worker's Prometheus metrics (prom-client), plus the default process metrics. */
export class WorkerMetrics {
  readonly registry: Registry;
  readonly jobs: Counter<'tier' | 'outcome'>;
  readonly jobSeconds: Histogram<'tier' | 'outcome'>;
  readonly queueWaitSeconds: Histogram<'tier'>;
  readonly ffmpegSeconds: Counter;
  readonly bytes: Counter<'direction'>;

  constructor(registry: Registry = createMetricsRegistry('worker')) {
    this.registry = registry;
    const registers = [registry];
    this.jobs = new Counter({
      name: 'reelay_jobs_total',
      help: 'Job deliveries handled, by tier and outcome.',
      labelNames: ['tier', 'outcome'],
      registers,
    });
    this.jobSeconds = new Histogram({
      name: 'reelay_job_duration_seconds',
      help: 'Time from taking a job off its queue to its outcome, by tier and outcome.',
      labelNames: ['tier', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.queueWaitSeconds = new Histogram({
      name: 'reelay_job_queue_wait_seconds',
      help: 'Time a job message waited on its tier queue before a worker took it (SQS SentTimestamp to receipt).',
      labelNames: ['tier'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.ffmpegSeconds = new Counter({
      name: 'reelay_ffmpeg_seconds_total',
      help: 'Wall-clock seconds spent in ffmpeg transcodes.',
      registers,
    });
    this.bytes = new Counter({
      name: 'reelay_transcode_bytes_total',
      help: 'Bytes downloaded as sources (direction="in") and uploaded as outputs (direction="out").',
      labelNames: ['direction'],
      registers,
    });
  }
}
