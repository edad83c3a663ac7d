import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../../core/aws.ts';
import { eventFromSqsBody, type EventType } from '../../core/events.ts';
import { newVideoId } from '../../core/ids.ts';
import type { PriorityTier, ResolvedResources } from '../../core/resources.ts';
import { StatusStore } from '../../core/status-store.ts';
import { jobMessage, transcodeJob } from '../../core/job-queue.ts';
import { DEFAULT_TENANT } from '../../core/tenants.ts';
import { queuedVideo, type VideoStatus } from '../../core/video-status.ts';
import { ensureSubscriberQueue } from '../../infra/provision.ts';
import { benchStopping } from './cleanup.ts';

/** The short clip of the worker benchmarks: 3 s of 852x480 H.264 + AAC in Matroska, 38 KB. */
export const SHORT_SAMPLE = {
  file: fileURLToPath(new URL('../../samples/small-480p.mkv', import.meta.url)),
  contentType: 'video/x-matroska',
  description: 'samples/small-480p.mkv (3 s, 852x480 H.264 + AAC)',
};

export interface PreparedJob {
  videoId: string;
  priority: PriorityTier;
  sourceKey: string;
}

type WatchedEvent = Extract<EventType, 'video.processing' | 'video.ready' | 'video.failed'>;

/**
 * Real transcode jobs for the worker processes of a benchmark, made the way
 * the API makes them (the source in the raw bucket under `uploads/<id>`, a
 * `queued` status document, the job on its tier queue), but in two steps so a
 * burst of jobs reaches SQS at one known moment: `prepare` stores sources and
 * documents, `send` queues the jobs. A subscriber queue on the video-events
 * topic tells when videos start and finish.
 */
export class BenchJobs {
  private readonly clients: AwsClients;
  private readonly resources: ResolvedResources;
  private readonly store: StatusStore;
  private readonly sample: { bytes: Buffer; contentType: string };
  private readonly subscriberUrl: string;
  /** Epoch ms at which each event was received, by `<type> <videoId>`. */
  private readonly seen = new Map<string, number>();
  /** The SQS MessageId of each job sent, by video id. */
  private readonly messageIds = new Map<string, string>();

  private constructor(
    clients: AwsClients,
    resources: ResolvedResources,
    sample: { bytes: Buffer; contentType: string },
    subscriberUrl: string,
  ) {
    this.clients = clients;
    this.resources = resources;
    this.store = new StatusStore(clients.s3, resources.names.mediaBucket);
    this.sample = sample;
    this.subscriberUrl = subscriberUrl;
  }

  static async create(
    clients: AwsClients,
    resources: ResolvedResources,
    { prefix, sample }: { prefix: string; sample: { file: string; contentType: string } },
  ): Promise<BenchJobs> {
    const subscriber = await ensureSubscriberQueue(clients, {
      name: `${prefix}-bench-jobs`,
      topicArns: [resources.videoTopicArn],
      eventTypes: ['video.processing', 'video.ready', 'video.failed'],
    });
    return new BenchJobs(clients, resources, { bytes: await readFile(sample.file), contentType: sample.contentType }, subscriber.url);
  }

  /** Stores `count` copies of the sample as new videos, `queued` at `priority`; nothing is sent yet. */
  async prepare(count: number, priority: PriorityTier): Promise<PreparedJob[]> {
    return Promise.all(
      Array.from({ length: count }, async () => {
        const videoId = newVideoId();
        const sourceKey = `uploads/${videoId}`;
        await this.clients.s3.send(
          new PutObjectCommand({
            Bucket: this.resources.names.rawBucket,
            Key: sourceKey,
            Body: this.sample.bytes,
            ContentType: this.sample.contentType,
          }),
        );
        await this.store.create(
          queuedVideo(videoId, DEFAULT_TENANT, priority, {
            key: sourceKey,
            bytes: this.sample.bytes.length,
            contentType: this.sample.contentType,
          }),
        );
        return { videoId, priority, sourceKey };
      }),
    );
  }

  /** Queues the jobs on their tiers (batches of ten, all at once); resolves with the epoch ms right before the first SendMessageBatch. */
  async send(jobs: readonly PreparedJob[]): Promise<number> {
    const sentAt = Date.now();
    const batches: PreparedJob[][] = [];
    for (const tier of ['high', 'normal', 'low'] as const) {
      const onTier = jobs.filter((j) => j.priority === tier);
      for (let i = 0; i < onTier.length; i += 10) batches.push(onTier.slice(i, i + 10));
    }
    await Promise.all(
      batches.map(async (batch) => {
        const Entries = batch.map((j, i) => {
          const job = transcodeJob({
            videoId: j.videoId,
            priority: j.priority,
            sourceKey: j.sourceKey,
            enqueuedAt: new Date(sentAt).toISOString(),
          });
          return { Id: String(i), ...jobMessage(job) };
        });
        const res = await this.clients.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: this.resources.tierQueueUrl[batch[0]!.priority], Entries }),
          {
            abortSignal: benchStopping,
          },
        );
        if (res.Failed?.length) throw new Error(`SendMessageBatch failed for ${res.Failed.length} jobs: ${res.Failed[0]?.Message}`);
        for (const ok of res.Successful ?? []) {
          const job = batch[Number(ok.Id)];
          if (job && ok.MessageId) this.messageIds.set(job.videoId, ok.MessageId);
        }
      }),
    );
    return sentAt;
  }

  /** The SQS MessageId the job of `videoId` was sent with. */
  messageId(videoId: string): string | undefined {
    return this.messageIds.get(videoId);
  }

  /**
   * Waits until `type` has been seen for every one of `videoIds` (events seen
   * earlier count); resolves with the epoch ms each was received. Throws on a
   * `video.failed` of one of them.
   */
  async waitFor(
    type: Exclude<WatchedEvent, 'video.failed'>,
    videoIds: readonly string[],
    { timeoutMs }: { timeoutMs: number },
  ): Promise<Map<string, number>> {
    const deadline = performance.now() + timeoutMs;
    const missing = () => videoIds.filter((id) => !this.seen.has(`${type} ${id}`));
    while (missing().length > 0) {
      const failed = videoIds.find((id) => this.seen.has(`video.failed ${id}`));
      if (failed) throw new Error(`video ${failed} failed in the pipeline: see the worker's log above`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${missing().length} of ${videoIds.length} videos had no ${type} within ${timeoutMs / 1000} s`);
      await this.receiveEvents(Math.max(1, Math.min(2, Math.ceil(left / 1000))));
    }
    return new Map(videoIds.map((id) => [id, this.seen.get(`${type} ${id}`)!]));
  }

  /** The videos' status documents, in the order of `videoIds`. */
  async statuses(videoIds: readonly string[]): Promise<VideoStatus[]> {
    return Promise.all(
      videoIds.map(async (id) => {
        const doc = await this.store.get(id);
        if (!doc) throw new Error(`video ${id} has no status document`);
        return doc;
      }),
    );
  }

  private async receiveEvents(waitSeconds: number): Promise<void> {
    const res = await this.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: this.subscriberUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }),
      { abortSignal: benchStopping },
    );
    const receivedAt = Date.now();
    const messages = res.Messages ?? [];
    if (messages.length === 0) return;
    for (const message of messages) {
      const event = eventFromSqsBody(message.Body ?? '');
      const key = `${event.type} ${event.subject}`;
      if (!this.seen.has(key)) this.seen.set(key, receivedAt);
    }
    await this.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.subscriberUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}
