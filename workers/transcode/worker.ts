import { ChangeMessageVisibilityCommand, DeleteMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { backoffSeconds } from '../../core/backoff.ts';
import { describeError, PermanentJobError } from '../../core/errors.ts';
import { jobError, jobFailure } from '../../core/job-errors.ts';
import type { Config } from '../../core/config/index.ts';
import type { Logger } from '../../core/logger.ts';
import { redriveMaxReceiveCount, type PriorityTier } from '../../core/resources.ts';
import { parseJob, sendJob, sendUnreadable, type Job } from '../../core/job-queue.ts';
import { announce } from './announce.ts';
import { transcodeVideo, type TranscodeDeps } from './transcode-video.ts';
import { HAND_BACK_VISIBILITY_SECONDS, TierPoller, type ReceivedMessage } from './tier-poller.ts';
import type { JobOutcome, WorkerMetrics } from './metrics.ts';
import { VisibilityHeartbeat } from './visibility-heartbeat.ts';

/** The worker settings it runs by, as the configuration defines them (units and defaults there). */
export type WorkerSettings = Pick<
  Config['worker'],
  | 'concurrency'
  | 'visibilityTimeoutMs'
  | 'heartbeatMs'
  | 'maxAttempts'
  | 'maxStalls'
  | 'pollWaitSeconds'
  | 'fairnessEvery'
  | 'retryBaseDelayMs'
>;

export interface WorkerOptions extends WorkerSettings {
  sqs: SQSClient;
  queueUrls: Record<PriorityTier, string>;
  dlqUrls: Record<PriorityTier, string>;
  transcode: TranscodeDeps;
  /** Called whenever the number of jobs in hand changes (the supervisor learns which workers are idle). */
  onBusyChange?: (busy: number) => void;
  /** Prometheus metrics (jobs by outcome, durations, queue wait); none when absent. */
  metrics?: WorkerMetrics;
  logger: Logger;
}

/** Longest back-off between attempts, seconds (SQS allows up to 12 hours). */
const MAX_RETRY_DELAY_SECONDS = 15 * 60;

/**
 * The transcode worker: `concurrency` loops, each taking one job at a time
 * from the tier queues. Nothing is thrown out of a loop; a job's message is
 * deleted only once its video is `ready` or `failed` (and dead-lettered).
 */
export class TranscodeWorker {
  private readonly opts: WorkerOptions;
  private readonly pollAbort = new AbortController();
  private readonly jobs = new Map<string, AbortController>();
  private readonly pollers: TierPoller[] = [];
  private loops: Promise<void>[] = [];
  private stopping: Promise<void> | undefined;
  readonly stats = { ready: 0, failed: 0, retried: 0, duplicates: 0, abandoned: 0 };

  constructor(opts: WorkerOptions) {
    this.opts = opts;
  }

  get busy(): number {
    return this.jobs.size;
  }

  start(): this {
    for (let slot = 0; slot < this.opts.concurrency; slot++) {
      const poller = new TierPoller({
        sqs: this.opts.sqs,
        queueUrls: this.opts.queueUrls,
        waitSeconds: this.opts.pollWaitSeconds,
        visibilityTimeoutSeconds: Math.ceil(this.opts.visibilityTimeoutMs / 1000),
        fairnessEvery: this.opts.fairnessEvery,
        logger: this.opts.logger,
      });
      this.pollers.push(poller);
      this.loops.push(this.loop(poller));
    }
    this.opts.logger.info({ concurrency: this.opts.concurrency }, 'worker started');
    return this;
  }

  /**
   * Stops polling, lets jobs in hand finish within `graceMs`, then kills the
   * rest and hands their messages back at once. Idempotent.
   */
  stop({ graceMs = 30_000 }: { graceMs?: number } = {}): Promise<void> {
    this.stopping ??= (async () => {
      this.opts.logger.info({ busy: this.jobs.size, graceMs }, 'worker stopping');
      this.pollAbort.abort();
      const grace = setTimeout(() => {
        for (const job of this.jobs.values()) job.abort();
      }, graceMs);
      try {
        await Promise.all(this.loops);
        await Promise.all(this.pollers.map((p) => p.close()));
      } finally {
        clearTimeout(grace);
      }
      this.opts.logger.info(this.stats, 'worker stopped');
    })();
    return this.stopping;
  }

  private async loop(poller: TierPoller): Promise<void> {
    while (!this.pollAbort.signal.aborted) {
      try {
        const got = await poller.next(this.pollAbort.signal);
        if (!got) continue;
        await this.handle(got);
      } catch (err) {
        this.opts.logger.error({ err }, 'worker loop error; continuing');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async handle(got: ReceivedMessage): Promise<void> {
    const job = parseJob(got.message.Body);
    if (!job) {
      this.opts.logger.error({ tier: got.tier, body: got.message.Body?.slice(0, 200) }, 'malformed job message; dead-lettering it');
      await this.deadLetter(got, undefined, jobFailure('MALFORMED_JOB'));
      return;
    }
    const log = this.opts.logger.child({ videoId: job.videoId, jobId: got.message.MessageId, tier: got.tier });
    const abort = new AbortController();
    const key = got.message.MessageId ?? job.videoId;
    const startedAt = performance.now();
    const sentAt = Number(got.message.Attributes?.SentTimestamp);
    if (sentAt > 0) this.opts.metrics?.queueWaitSeconds.observe({ tier: got.tier }, Math.max(0, Date.now() - sentAt) / 1000);
    let outcome: JobOutcome = 'failed';
    this.jobs.set(key, abort);
    this.opts.onBusyChange?.(this.jobs.size);
    let lost = false;
    const heartbeat = new VisibilityHeartbeat({
      sqs: this.opts.sqs,
      queueUrl: got.queueUrl,
      receiptHandle: got.message.ReceiptHandle!,
      intervalMs: this.opts.heartbeatMs,
      visibilityTimeoutMs: this.opts.visibilityTimeoutMs,
      logger: log,
      // Another worker has the job now: stop this copy (ffmpeg included) and leave the status and message to it.
      onLost: () => {
        lost = true;
        abort.abort();
      },
    }).start();
    try {
      const status = await this.opts.transcode.store.get(job.videoId);
      if (!status) {
        await this.unknownVideo(got, job, log);
        return;
      }
      // Still `processing`: the last attempt started and never reported, so its worker process died (killed,
      // crashed, host lost). That is an interruption, not a failed attempt (#23 item 13): it reruns under the
      // same attempt number and counts against its own, larger budget, so infrastructure churn cannot fail a
      // good video while a file that kills its worker every time still ends `failed`.
      const interrupted = status.status === 'processing' && status.attempts > 0;
      const stalls = (status.stalls ?? 0) + (interrupted ? 1 : 0);
      const attempt = interrupted ? status.attempts : status.attempts + 1;
      if (interrupted) log.warn({ attempt, stalls }, 'the last run of this attempt was interrupted (its worker stopped without reporting)');
      if (stalls > this.opts.maxStalls) {
        await this.fail(got, job, jobError('STALLED', stalls), attempt, log);
        return;
      }
      if (got.receiveCount >= redriveMaxReceiveCount(this.opts.maxAttempts) - 1 && attempt <= this.opts.maxAttempts) {
        // Hand-backs count as receives too: before SQS's redrive dead-letters a job that still has
        // attempts left (and leaves its video queued for ever), start it afresh as a new message.
        log.warn({ receiveCount: got.receiveCount }, 'job received many times without an attempt failing; requeueing it fresh');
        await this.requeueFresh(got, job);
        outcome = 'requeued';
        return;
      }
      if (attempt > this.opts.maxAttempts && status.status !== 'ready' && status.status !== 'failed') {
        // Earlier attempts died without reporting (e.g. the worker was killed): stop here.
        await this.fail(got, job, jobError('GAVE_UP', attempt - 1), attempt - 1, log);
        return;
      }
      const result = await transcodeVideo(
        job,
        { ...this.opts.transcode, logger: log },
        { signal: abort.signal, attempt, stalls, current: status },
      );
      if (result === 'announced-failed') {
        const failed = await this.opts.transcode.store.get(job.videoId);
        await this.deadLetter(got, job, failed?.error ?? { code: 'failed', message: 'failed' });
        return;
      }
      if (result === 'already-done') this.stats.duplicates++;
      else this.stats.ready++;
      await this.deleteMessage(got);
      outcome = result === 'already-done' ? 'duplicate' : 'ready';
    } catch (err) {
      if (lost) {
        this.stats.abandoned++;
        log.warn({ err: describeError(err) }, 'job abandoned: another worker owns it now');
        outcome = 'abandoned';
        return;
      }
      outcome = await this.onFailure(got, job, err, log, abort.signal.aborted);
    } finally {
      const labels = { tier: got.tier, outcome };
      this.opts.metrics?.jobs.inc(labels);
      this.opts.metrics?.jobSeconds.observe(labels, (performance.now() - startedAt) / 1000);
      heartbeat.stop();
      this.jobs.delete(key);
      this.opts.onBusyChange?.(this.jobs.size);
    }
  }

  private async onFailure(got: ReceivedMessage, job: Job, err: unknown, log: Logger, interrupted: boolean): Promise<JobOutcome> {
    try {
      const status = await this.opts.transcode.store.get(job.videoId);
      const attempts = status?.attempts ?? 1;
      if (status?.status === 'ready' || status?.status === 'failed') {
        // Finished, but announcing it failed: never reopen a finished video; the next delivery announces it.
        log.warn({ err, status: status.status }, 'finished but the event could not be published; retrying with the next delivery');
        await this.changeVisibility(got, backoffSeconds(1, this.opts.retryBaseDelayMs, MAX_RETRY_DELAY_SECONDS));
        return 'retried';
      }
      if (interrupted) {
        log.warn('job interrupted by shutdown; handing it back');
        // A shutdown is not the job's failure: give the attempt back (unless the video finished meanwhile).
        await this.opts.transcode.store.transition(job.videoId, 'requeue', (doc) => ({
          progress: undefined,
          attempts: Math.max(0, doc.attempts - 1),
        }));
        await this.changeVisibility(got, HAND_BACK_VISIBILITY_SECONDS);
        return 'handed_back';
      }
      if (err instanceof PermanentJobError || attempts >= this.opts.maxAttempts) {
        await this.fail(got, job, err, attempts, log);
        return 'failed';
      }
      const delaySeconds = backoffSeconds(attempts, this.opts.retryBaseDelayMs, MAX_RETRY_DELAY_SECONDS);
      log.warn({ err, attempts, retryInSeconds: delaySeconds }, 'attempt failed; will retry');
      this.stats.retried++;
      const requeued = await this.opts.transcode.store.transition(job.videoId, 'requeue', () => ({
        progress: undefined,
        lastError: jobFailure('RETRYING', describeError(err)),
      }));
      // Finished by another worker meanwhile: the next delivery of this message finds it done.
      if (!requeued) log.info('the video finished elsewhere meanwhile; not requeueing it');
      await this.changeVisibility(got, delaySeconds);
      return 'retried';
    } catch (handlingErr) {
      // The message is left alone: it reappears after its visibility timeout and is tried again.
      log.error({ err: handlingErr, cause: describeError(err) }, 'could not record the failure; the job will be redelivered');
      return 'retried';
    }
  }

  /** Marks the video failed, publishes `video.failed`, moves the job to its tier's DLQ. */
  private async fail(got: ReceivedMessage, job: Job, err: unknown, attempts: number, log: Logger): Promise<void> {
    const { code, message } =
      err instanceof PermanentJobError ? { code: err.code, message: err.message } : jobFailure('ATTEMPTS_EXHAUSTED', describeError(err));
    log.error({ code, reason: message, attempts }, 'video failed');
    this.stats.failed++;
    const failed = await this.opts.transcode.store.transition(job.videoId, 'fail', () => ({
      progress: undefined,
      error: { code, message },
      finishedAt: new Date().toISOString(),
      announced: false,
    }));
    if (!failed) {
      // Another worker finished the video meanwhile: never reopen or re-fail it; this copy of the job is spent.
      log.warn({ code }, 'the video finished elsewhere meanwhile; dropping this copy of its job');
      await this.deleteMessage(got);
      return;
    }
    await announce(failed, this.opts.transcode);
    await this.deadLetter(got, job, { code, message });
  }

  /**
   * A job whose video has no status document (never created, or removed):
   * nothing can be recorded for it, so the receive count is its attempt count.
   * It is retried with back-off like any attempt (a document written late
   * still gets its transcode) and dead-lettered with `unknown_video` after
   * the last one, logged once, then.
   */
  private async unknownVideo(got: ReceivedMessage, job: Job, log: Logger): Promise<void> {
    // Deleted (DELETE /v1/videos/:id) while its job waited: nothing to do, ever.
    if (await this.opts.transcode.store.deletedVideo(job.videoId)) {
      log.info('the video was deleted; dropping its job');
      await this.deleteMessage(got);
      return;
    }
    if (got.receiveCount < this.opts.maxAttempts) {
      log.debug({ receiveCount: got.receiveCount }, 'job for a video without a status document; retrying');
      await this.changeVisibility(got, backoffSeconds(got.receiveCount, this.opts.retryBaseDelayMs, MAX_RETRY_DELAY_SECONDS));
      return;
    }
    const failure = jobFailure('NO_STATUS_AFTER_ATTEMPTS', got.receiveCount);
    log.error({ code: failure.code, attempts: got.receiveCount }, 'job for an unknown video; dead-lettering it');
    this.stats.failed++;
    await this.deadLetter(got, job, failure);
  }

  /** Sends a copy of the job as a new message (its receive count starts again) and deletes this one. */
  private async requeueFresh(got: ReceivedMessage, job: Job): Promise<void> {
    await sendJob(this.opts.sqs, got.queueUrl, job);
    await this.deleteMessage(got);
  }

  /** Moves the message to its tier's DLQ, saying why (`code`, `reason`); one that is no job (`job` undefined) as it came. */
  private async deadLetter(
    got: ReceivedMessage,
    job: Job | undefined,
    { code, message }: { code: string; message: string },
  ): Promise<void> {
    const why = { code, reason: message.slice(0, 1000) || 'unknown' };
    const dlqUrl = this.opts.dlqUrls[got.tier];
    if (job) await sendJob(this.opts.sqs, dlqUrl, job, why);
    else await sendUnreadable(this.opts.sqs, dlqUrl, got.message.Body ?? '', why);
    await this.deleteMessage(got);
  }

  private async deleteMessage(got: ReceivedMessage): Promise<void> {
    await this.opts.sqs.send(new DeleteMessageCommand({ QueueUrl: got.queueUrl, ReceiptHandle: got.message.ReceiptHandle }));
  }

  private async changeVisibility(got: ReceivedMessage, seconds: number): Promise<void> {
    await this.opts.sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: got.queueUrl, ReceiptHandle: got.message.ReceiptHandle, VisibilityTimeout: seconds }),
    );
  }
}
