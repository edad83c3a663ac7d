import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../core/logger.ts';

/**
 * Keeps a message in hand invisible while it is worked on: every `intervalMs`
 * it sets the visibility back to `visibilityTimeoutMs`, so a transcode longer
 * than the visibility timeout is never handed to a second worker. Each beat is
 * scheduled after the previous one finished; `stop()` clears the timer.
 */
export class VisibilityHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;
  private readonly receiptHandle: string;
  private readonly intervalMs: number;
  private readonly visibilityTimeoutMs: number;
  private readonly logger: Logger;

  constructor(opts: {
    sqs: SQSClient;
    queueUrl: string;
    receiptHandle: string;
    intervalMs: number;
    visibilityTimeoutMs: number;
    logger: Logger;
  }) {
    this.sqs = opts.sqs;
    this.queueUrl = opts.queueUrl;
    this.receiptHandle = opts.receiptHandle;
    this.intervalMs = opts.intervalMs;
    this.visibilityTimeoutMs = opts.visibilityTimeoutMs;
    this.logger = opts.logger;
  }

  start(): this {
    this.schedule();
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    try {
      await this.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: this.receiptHandle,
          VisibilityTimeout: Math.ceil(this.visibilityTimeoutMs / 1000),
        }),
      );
      this.logger.debug('visibility extended');
    } catch (err) {
      this.logger.warn({ err }, 'could not extend visibility; another worker may receive this job');
    } finally {
      this.schedule();
    }
  }
}
