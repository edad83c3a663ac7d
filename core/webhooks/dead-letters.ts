import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { JsonDocuments } from '../json-documents.ts';
import type { DeliveryMessage } from './delivery-message.ts';

/** A delivery given up after its last attempt, kept until it is redelivered or its webhook is deleted. */
export interface DeadLetter {
  delivery: DeliveryMessage;
  /** Why the last attempt failed. */
  reason: string;
  attempts: number;
  /** When it was given up (ISO 8601). */
  at: string;
}

const FOLDER = 'webhook-dead-letters';

/**
 * The dead-lettered deliveries of each webhook, one document per event in the media bucket
 * (`webhook-dead-letters/<webhookId>/<event id>.json`). Keyed by webhook, so redelivering one endpoint's
 * never reads, hides or delays another's (a shared SQS dead-letter queue cannot be read without hiding
 * what it reads); keyed by event, so a delivery dead-lettered again replaces its own entry instead of
 * becoming a second one.
 */
export class WebhookDeadLetters {
  private readonly s3: S3Client;
  private readonly bucket: string;
  constructor(s3: S3Client, bucket: string) {
    this.s3 = s3;
    this.bucket = bucket;
  }

  private docs(webhookId: string): JsonDocuments<DeadLetter> {
    return new JsonDocuments(this.s3, this.bucket, `${FOLDER}/${webhookId}`);
  }

  async put(letter: DeadLetter): Promise<void> {
    await this.docs(letter.delivery.webhookId).put(encodeURIComponent(letter.delivery.event.id), letter);
  }

  /** Up to `limit` of the webhook's dead letters (their ids for `take`), oldest key first; `more` when there are others. */
  async ids(webhookId: string, limit: number): Promise<{ ids: string[]; more: boolean }> {
    const prefix = `${FOLDER}/${webhookId}/`;
    const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: limit }));
    const ids = (page.Contents ?? []).flatMap(({ Key }) => (Key?.endsWith('.json') ? [Key.slice(prefix.length, -'.json'.length)] : []));
    return { ids, more: page.IsTruncated === true };
  }

  /** Reads and removes one dead letter; undefined when it is gone (taken by a concurrent redelivery). */
  async take(webhookId: string, id: string): Promise<DeadLetter | undefined> {
    const docs = this.docs(webhookId);
    const letter = await docs.get(id);
    if (letter) await docs.delete(id);
    return letter;
  }

  /** Removes every dead letter of a webhook (it was deleted). */
  async deleteAll(webhookId: string): Promise<void> {
    const docs = this.docs(webhookId);
    for (;;) {
      const { ids, more } = await this.ids(webhookId, 1000);
      if (ids.length > 0) {
        const Objects = ids.map((id) => ({ Key: docs.key(id) }));
        await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects, Quiet: true } }));
      }
      if (!more) return;
    }
  }
}
