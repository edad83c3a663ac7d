import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import type { Logger } from './logger.ts';

export interface QueueConsumerOptions {
  sqs: SQSClient;
  queueUrl: string;
  /**
   * Handles one message; resolving deletes it, throwing leaves it for
   * redelivery (then its DLQ). Resolving to `'keep'` leaves it too, without an
   * error: the handler has itself set when it comes back (a scheduled retry).
   */
  handle: (message: Message) => Promise<void | 'keep'>;
  /** Visibility timeout of received messages, seconds. Default: the queue's own. */
  visibilityTimeoutSeconds?: number;
  /** Handle the messages of one receive concurrently rather than one after another. Default false. */
  concurrent?: boolean;
  /** Long-poll wait, seconds (0–20). Default 20. */
  waitSeconds?: number;
  /** Messages per receive (1–10). Default 10. */
  batchSize?: number;
  /**
   * Abort the long poll in flight on stop, instead of waiting it out and
   * handling what it brings. Only for a queue that is deleted right after
   * (the realtime gateway's): elsewhere an aborted poll can leave a message
   * invisible for its whole visibility timeout. Default false.
   */
  abortOnStop?: boolean;
  logger: Logger;
}

/** After a failed receive, wait this long before the next one (no tight loop on a missing queue). */
const RECEIVE_RETRY_MS = 1000;

/**
 * A plain SQS consumer for subscriber queues, on `sqs-consumer`: long-polls,
 * handles each message, deletes the ones handled. The next poll starts only
 * after the previous batch is done.
 *
 * Stopping does not abort the long poll in flight (unless `abortOnStop`): a
 * message SQS hands to an aborted request stays invisible for the queue's
 * visibility timeout, which is how a restarted subscriber used to get its next
 * event 30 s late. The poll is waited out (at most `waitSeconds`) and what it
 * brings is handled and deleted before `stop()` resolves. What remains: a
 * process killed outright (SIGKILL, a crash, a lost host) still leaves its
 * in-flight poll's messages invisible until their visibility timeout passes.
 */
export class QueueConsumer {
  private readonly opts: QueueConsumerOptions;
  private readonly consumer: Consumer;
  private receiveFailed = false;
  private started = false;
  private stopping = false;

  constructor(opts: QueueConsumerOptions) {
    this.opts = opts;
    const { sqs, queueUrl, waitSeconds = 20, batchSize = 10, visibilityTimeoutSeconds, logger } = opts;
    this.consumer = Consumer.create({
      sqs,
      queueUrl,
      batchSize,
      waitTimeSeconds: waitSeconds,
      ...(visibilityTimeoutSeconds !== undefined ? { visibilityTimeout: visibilityTimeoutSeconds } : {}),
      messageSystemAttributeNames: ['ApproximateReceiveCount'],
      // stop() waits for the poll in flight and its batch (bounded: the poll ends after waitSeconds).
      pollingCompleteWaitTimeMs: (waitSeconds + 60) * 1000,
      preReceiveMessageCallback: async () => {
        if (!this.receiveFailed) return;
        this.receiveFailed = false;
        await new Promise((r) => setTimeout(r, RECEIVE_RETRY_MS));
      },
      // Returns the messages to delete: those handled, not kept, not failed.
      handleMessageBatch: async (messages) => {
        if (opts.concurrent) return (await Promise.all(messages.map((m) => this.process(m)))).filter((m) => m !== undefined);
        const done: Message[] = [];
        for (const message of messages) {
          const handled = await this.process(message);
          if (handled) done.push(handled);
        }
        return done;
      },
    });
    this.consumer.on('error', (err, messages) => {
      // The poll that stop() aborted (abortOnStop): a clean stop logs no error (#23 item 15).
      if (this.stopping && messages === undefined) {
        logger.debug({ err }, 'long poll aborted on stop');
        return;
      }
      if (messages === undefined) {
        this.receiveFailed = true;
        logger.error({ err }, 'receive failed; retrying in 1s');
      } else {
        logger.error({ err }, 'could not delete handled messages; they will be redelivered');
      }
    });
  }

  start(): this {
    if (!this.started) {
      this.started = true;
      this.consumer.start();
    }
    return this;
  }

  /** Stops polling; resolves once the poll in flight (not aborted, see above) and the batch in hand are done. */
  async stop(): Promise<void> {
    if (!this.started || !this.consumer.status.isRunning) return;
    this.stopping = true;
    const stopped = new Promise<void>((resolve) => this.consumer.once('stopped', () => resolve()));
    this.consumer.stop({ abort: this.opts.abortOnStop ?? false });
    await stopped;
  }

  private async process(message: Message): Promise<Message | undefined> {
    try {
      return (await this.opts.handle(message)) === 'keep' ? undefined : message;
    } catch (err) {
      this.opts.logger.error({ err, messageId: message.MessageId }, 'message handling failed; it will be redelivered');
      return undefined;
    }
  }
}
