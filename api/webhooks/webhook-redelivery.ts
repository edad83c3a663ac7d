import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { deliveryAttributes } from '../../core/webhooks/delivery-message.ts';
import type { WebhookDeadLetters } from '../../core/webhooks/dead-letters.ts';

export interface DeliveryQueues {
  sqs: SQSClient;
  /** `<prefix>-webhook-deliveries`. */
  queueUrl: string;
}

/** Dead letters redelivered in one request, at most (`more` says there are others). */
const MAX_PER_REQUEST = 500;

/**
 * Moves one webhook's dead-lettered deliveries back onto the deliveries queue, as fresh messages (so they
 * get every attempt again). Only this webhook's dead letters are read: no other endpoint's (or tenant's)
 * are touched. The ids are listed once, before anything is sent, and each is taken (read and removed)
 * before its message is sent, so a delivery that fails again and is dead-lettered anew while this runs is
 * not sent twice by this call, nor lost; if a send fails, its dead letter is put back.
 */
export async function redeliverDeadLetters(
  { sqs, queueUrl }: DeliveryQueues,
  deadLetters: WebhookDeadLetters,
  webhookId: string,
): Promise<{ redelivered: number; more: boolean }> {
  const { ids, more } = await deadLetters.ids(webhookId, MAX_PER_REQUEST);
  let redelivered = 0;
  for (const id of ids) {
    const letter = await deadLetters.take(webhookId, id);
    if (!letter) continue;
    const { delivery } = letter;
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify(delivery),
          MessageAttributes: deliveryAttributes(delivery),
        }),
      );
    } catch (err) {
      await deadLetters.put(letter);
      throw err;
    }
    redelivered++;
  }
  return { redelivered, more };
}
