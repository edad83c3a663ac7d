import { z } from 'zod';
import { parseEvent, type ReelayEvent } from '../events.ts';

/** The body of one message on the deliveries queue: one event for one endpoint. */
export interface DeliveryMessage {
  webhookId: string;
  event: ReelayEvent;
}

const schema = z.object({ webhookId: z.string().min(1), event: z.unknown() });

/** The message attributes of a delivery: which webhook and event it is, readable without parsing the body (redelivery). */
export function deliveryAttributes({ webhookId, event }: DeliveryMessage): Record<string, { DataType: 'String'; StringValue: string }> {
  return {
    webhookId: { DataType: 'String', StringValue: webhookId },
    eventId: { DataType: 'String', StringValue: event.id },
  };
}

/** Validates a delivery message (the event against its schema too); throws when it is not one. */
export function parseDeliveryMessage(body: string): DeliveryMessage {
  const { webhookId, event } = schema.parse(JSON.parse(body));
  return { webhookId, event: parseEvent(event) };
}
