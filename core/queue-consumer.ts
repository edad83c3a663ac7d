import { DeleteMessageCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
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
  logger: Logger;
}

/**
 * A plain SQS consumer for subscriber queues: long-polls, handles each message,
 * deletes it on success. The next poll starts only after the previous batch is
 * done; nothing is thrown out of the loop.
 */
export class QueueConsumer {
  private readonly opts: QueueConsumerOptions;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(opts: QueueConsumerOptions) {
    this.opts = opts;
  }

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  /** Stops polling (an in-flight poll is aborted; its message, if any, reappears later) and waits for the batch in hand. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { sqs, queueUrl, waitSeconds = 20, batchSize = 10, visibilityTimeoutSeconds, concurrent = false, logger } = this.opts;
    while (!this.abort.signal.aborted) {
      let messages: Message[] = [];
      try {
        const res = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: waitSeconds,
            ...(visibilityTimeoutSeconds !== undefined ? { VisibilityTimeout: visibilityTimeoutSeconds } : {}),
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = res.Messages ?? [];
      } catch (err) {
        if (this.abort.signal.aborted) break;
        logger.error({ err }, 'receive failed; retrying in 1s');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (concurrent) await Promise.all(messages.map((message) => this.process(message)));
      else for (const message of messages) await this.process(message);
    }
  }

  private async process(message: Message): Promise<void> {
    const { sqs, queueUrl, logger } = this.opts;
    try {
      if ((await this.opts.handle(message)) === 'keep') return;
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    } catch (err) {
      logger.error({ err, messageId: message.MessageId }, 'message handling failed; it will be redelivered');
    }
  }
}
