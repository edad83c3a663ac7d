import { randomBytes } from 'node:crypto';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { eventFromSqsBody } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import { QueueConsumer } from '../../core/queue-consumer.ts';
import type { EventHub } from './event-hub.ts';
import { createRealtimeQueue, deleteRealtimeQueue, realtimeQueueName, touchRealtimeQueue, type RealtimeQueue } from './realtime-queue.ts';

export interface RealtimeGatewayOptions {
  sqs: SQSClient;
  sns: SNSClient;
  /** The video and live topics. */
  topicArns: string[];
  /** `<prefix>-realtime-`; the queue is this plus a random instance id. */
  namePrefix: string;
  hub: EventHub;
  /** Other instances treat the queue as orphaned after this long without a heartbeat, ms. */
  orphanAfterMs: number;
  /** SQS long-poll wait, seconds. */
  pollWaitSeconds: number;
  logger: Logger;
}

/**
 * Gets every event to this API process: its own queue, subscribed to both
 * topics, consumed into the EventHub that feeds its SSE clients. So a client
 * on any instance sees every event, whichever instance or worker caused it.
 * The queue is deleted on stop; if the process dies instead, its heartbeat tag
 * stops moving and another instance's orphan clean-up removes it (messages in
 * it expire after a minute meanwhile).
 */
export class RealtimeGateway {
  readonly instanceId: string;
  readonly queue: RealtimeQueue;
  private readonly opts: RealtimeGatewayOptions;
  private readonly consumer: QueueConsumer;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;

  private constructor(opts: RealtimeGatewayOptions, instanceId: string, queue: RealtimeQueue) {
    this.opts = opts;
    this.instanceId = instanceId;
    this.queue = queue;
    const log = opts.logger.child({ component: 'realtime', queue: queue.name });
    this.consumer = new QueueConsumer({
      sqs: opts.sqs,
      queueUrl: queue.url,
      waitSeconds: opts.pollWaitSeconds,
      // The queue is deleted right after stopping: nothing to hand back, no reason to wait a poll out.
      abortOnStop: true,
      logger: log,
      // A message that is not a reelay event is dropped: redelivering it would not make it one.
      handle: async (message) => {
        try {
          opts.hub.add(eventFromSqsBody(message.Body ?? ''));
        } catch (err) {
          log.warn({ err, messageId: message.MessageId }, 'dropped a message that is not a reelay event');
        }
      },
    });
  }

  static async start(opts: RealtimeGatewayOptions): Promise<RealtimeGateway> {
    const instanceId = randomBytes(4).toString('hex');
    const queue = await createRealtimeQueue(opts, { name: realtimeQueueName(opts.namePrefix, instanceId), topicArns: opts.topicArns });
    const gateway = new RealtimeGateway(opts, instanceId, queue);
    gateway.consumer.start();
    gateway.scheduleHeartbeat();
    opts.logger.info({ queue: queue.name }, 'realtime gateway listening');
    return gateway;
  }

  /** Well inside the orphan limit, so a live instance is never taken for dead. */
  private get heartbeatMs(): number {
    return Math.min(60_000, Math.floor(this.opts.orphanAfterMs / 4));
  }

  private scheduleHeartbeat(): void {
    this.heartbeat = setTimeout(() => {
      touchRealtimeQueue(this.opts.sqs, this.queue.url)
        .catch((err: unknown) => this.opts.logger.warn({ err, queue: this.queue.name }, 'could not refresh the realtime queue heartbeat'))
        .finally(() => {
          if (!this.stopped) this.scheduleHeartbeat();
        });
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Stops consuming, then unsubscribes and deletes the queue. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      clearTimeout(this.heartbeat);
      await this.consumer.stop();
      try {
        await deleteRealtimeQueue(this.opts, this.queue);
        this.opts.logger.info({ queue: this.queue.name }, 'realtime queue removed');
      } catch (err) {
        this.opts.logger.warn({ err, queue: this.queue.name }, 'could not remove the realtime queue; orphan clean-up will');
      }
    })();
    return this.stopped;
  }
}
