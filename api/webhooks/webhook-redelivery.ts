import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface DeliveryQueues {
  sqs: SQSClient;
  /** `<prefix>-webhook-deliveries` and its DLQ. */
  queueUrl: string;
  dlqUrl: string;
}

/** How long entries of other webhooks stay hidden while the DLQ is scanned, seconds (given back at the end). */
const SCAN_VISIBILITY_SECONDS = 60;
/** DLQ entries looked at in one request, at most. */
const MAX_SCANNED = 2000;

/**
 * Moves one webhook's dead-lettered deliveries back onto the deliveries
 * queue, as fresh messages (so they get every attempt again), each exactly
 * once: the DLQ is read to its end (entries seen once are hidden while the scan
 * runs), this webhook's entries are re-sent and deleted, the others made
 * visible again at the end. The DLQ is shared by every webhook, so the scan
 * reads at most MAX_SCANNED entries per request; `more` says a request again
 * may find others.
 */
export async function redeliverDeadLetters(
  { sqs, queueUrl, dlqUrl }: DeliveryQueues,
  webhookId: string,
): Promise<{ redelivered: number; more: boolean }> {
  const others: Message[] = [];
  const seen = new Set<string>();
  let redelivered = 0;
  let more = false;
  try {
    for (;;) {
      if (seen.size >= MAX_SCANNED) {
        more = true;
        break;
      }
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: SCAN_VISIBILITY_SECONDS,
          MessageAttributeNames: ['All'],
        }),
      );
      const fresh = Messages.filter((m) => !seen.has(m.MessageId!));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        seen.add(message.MessageId!);
        if (message.MessageAttributes?.webhookId?.StringValue !== webhookId) {
          others.push(message);
          continue;
        }
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: message.Body ?? '',
            MessageAttributes: {
              webhookId: { DataType: 'String', StringValue: webhookId },
              ...(message.MessageAttributes.eventId ? { eventId: message.MessageAttributes.eventId } : {}),
            },
          }),
        );
        await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
        redelivered++;
      }
    }
  } finally {
    for (let i = 0; i < others.length; i += 10) {
      const batch = others.slice(i, i + 10).map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }));
      await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: dlqUrl, Entries: batch })).catch(() => undefined);
    }
  }
  return { redelivered, more };
}
