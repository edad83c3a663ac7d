import type { Message } from '@aws-sdk/client-sqs';
import { eventFromSqsBody, type ReelayEvent } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';

/**
 * The notifier subscriber: logs every event it receives through SNS → SQS,
 * once per event id (delivery is at least once), and keeps the most recent
 * ones in memory.
 */
export class Notifier {
  private readonly seen = new Set<string>();
  private readonly recentEvents: ReelayEvent[] = [];
  private readonly logger: Logger;
  private readonly capacity: number;

  private readonly onEvent: ((event: ReelayEvent, duplicate: boolean) => void) | undefined;

  constructor({
    logger,
    capacity = 1000,
    onEvent,
  }: {
    logger: Logger;
    capacity?: number;
    onEvent?: (event: ReelayEvent, duplicate: boolean) => void;
  }) {
    this.logger = logger;
    this.capacity = capacity;
    this.onEvent = onEvent;
  }

  get recent(): readonly ReelayEvent[] {
    return this.recentEvents;
  }

  /** Throws on a message that is not a reelay event, so it ends in the queue's DLQ rather than vanishing. */
  handle = async (message: Message): Promise<void> => {
    const event = eventFromSqsBody(message.Body ?? '');
    this.onEvent?.(event, this.seen.has(event.id));
    if (this.seen.has(event.id)) {
      this.logger.debug({ eventId: event.id }, 'duplicate event dropped');
      return;
    }
    this.remember(event);
    this.logger.info({ eventId: event.id, type: event.type, subject: event.subject, data: event.data }, `event ${event.type}`);
  };

  private remember(event: ReelayEvent): void {
    this.seen.add(event.id);
    this.recentEvents.push(event);
    if (this.recentEvents.length > this.capacity) {
      const dropped = this.recentEvents.shift()!;
      this.seen.delete(dropped.id);
    }
  }
}
