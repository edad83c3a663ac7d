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
  private readonly onLost: ((err: unknown) => void) | undefined;

  constructor(opts: {
    sqs: SQSClient;
    queueUrl: string;
    receiptHandle: string;
    intervalMs: number;
    visibilityTimeoutMs: number;
    logger: Logger;
    /**
     * Called once when SQS says the receipt handle is no longer valid: the
     * message was deleted or received again by another worker, which owns the
     * job now. The beats stop.
     */
    onLost?: (err: unknown) => void;
  }) {
    this.onLost = opts.onLost;
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
      if (isLostReceipt(err)) {
        this.logger.warn({ err }, 'the receipt handle is no longer valid: another worker owns this job now');
        this.stop();
        this.onLost?.(err);
        return;
      }
      this.logger.warn({ err }, 'could not extend visibility; another worker may receive this job');
    } finally {
      this.schedule();
    }
  }
}

/**
 * SQS's answers for a receipt handle that no longer holds the message: the
 * message was deleted, or its visibility ran out and it was received again.
 * (AWS: ReceiptHandleIsInvalid, or InvalidParameterValue "…receipt handle has
 * expired"/"…not available for visibility timeout change"; fauxqs:
 * MessageNotInflight.)
 */
export function isLostReceipt(err: unknown): boolean {
  const { name = '', message = '' } = err as { name?: string; message?: string };
  if (/ReceiptHandleIsInvalid|MessageNotInflight/.test(name)) return true;
  return /InvalidParameterValue/.test(name) && /receipt handle|not available for visibility timeout change/i.test(message);
}
