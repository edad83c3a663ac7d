import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SetSubscriptionAttributesCommand,
  SubscribeCommand,
  type SNSClient,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Config } from '../core/config/index.ts';
import type { Logger } from '../core/logger.ts';
import { resourceNames, topicArn } from '../core/resources.ts';
import { snsToSqsPolicy } from '../core/sns-sqs-policy.ts';
import { resourceSpec, type QueueSpec } from './resource-spec.ts';

export interface ProvisionSettings {
  prefix: string;
  region: string;
  /** Visibility timeout of the tier queues, seconds. */
  visibilityTimeoutSeconds: number;
  /** The worker's attempt limit; SQS redrive is a backstop a few receives beyond it. */
  maxAttempts: number;
  /** `REELAY_CORS_ORIGINS`: browsers on these origins may PUT upload parts straight to the raw bucket. */
  corsOrigins?: string[];
}

/** The provisioning settings a configuration implies (the tier queues' visibility and redrive follow the worker's). */
export function provisionSettings(config: Config): ProvisionSettings {
  return {
    prefix: config.prefix,
    region: config.aws.region,
    visibilityTimeoutSeconds: config.worker.visibilityTimeoutMs / 1000,
    maxAttempts: config.worker.maxAttempts,
    corsOrigins: config.api.corsOrigins,
  };
}

export interface ProvisionReport {
  created: string[];
  existing: string[];
}

/** Extra receives SQS allows beyond the worker's own attempt count (polls that hand a message back count too). */
export { REDRIVE_SLACK } from '../core/resources.ts';
const FOURTEEN_DAYS = String(14 * 24 * 3600);

/**
 * Creates every bucket, queue, topic and subscription reelay needs, or brings
 * existing ones to the wanted attributes. Running it twice changes nothing.
 */
export async function provision(
  clients: { s3: S3Client; sqs: SQSClient; sns: SNSClient },
  settings: ProvisionSettings,
  logger: Logger,
): Promise<ProvisionReport> {
  const names = resourceNames(settings.prefix);
  const report: ProvisionReport = { created: [], existing: [] };
  const note = (name: string, created: boolean) => (created ? report.created : report.existing).push(name);

  const spec = resourceSpec(settings);
  for (const { name } of spec.buckets) note(name, await ensureBucket(clients.s3, name, settings.region));
  // Multipart uploads that never completed (a crashed API) cost storage until aborted: S3 aborts them after a day.
  for (const { name } of spec.buckets) await ensureAbortIncompleteUploads(clients.s3, name);
  await ensureUploadCors(clients.s3, names.rawBucket, settings.corsOrigins ?? []);

  // Each queue after its DLQ (the spec's order), so the redrive policy can name the DLQ's ARN.
  const arns = new Map<string, string>();
  for (const queue of spec.queues) {
    const created = await ensureQueue(clients.sqs, queue.name, () => queueAttributes(queue, arns));
    arns.set(queue.name, created.arn);
    note(queue.name, created.created);
  }

  const [videoTopicArn, liveTopicArn] = [
    await ensureTopic(clients.sns, names.videoTopic, note),
    await ensureTopic(clients.sns, names.liveTopic, note),
  ];
  for (const { queue, eventTypes } of spec.subscribers) {
    const subscriber = await ensureSubscriberQueue(clients, { name: queue.name, topicArns: [videoTopicArn!, liveTopicArn!], eventTypes });
    for (const [name, created] of subscriber.report) note(name, created);
  }

  logger.info({ prefix: settings.prefix, created: report.created.length, existing: report.existing.length }, 'provisioned');
  return report;
}

/** A queue's SQS attributes from its spec; the DLQ it redrives to must already exist (its ARN is in `arns`). */
function queueAttributes(queue: QueueSpec, arns: Map<string, string>): Record<string, string> {
  return {
    ...(queue.visibilityTimeoutSeconds !== undefined ? { VisibilityTimeout: String(queue.visibilityTimeoutSeconds) } : {}),
    ...(queue.retentionSeconds !== undefined ? { MessageRetentionPeriod: String(queue.retentionSeconds) } : {}),
    ...(queue.redrive
      ? {
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: arns.get(queue.redrive.dlq),
            maxReceiveCount: String(queue.redrive.maxReceiveCount),
          }),
        }
      : {}),
  };
}

/**
 * A subscriber's own queue (with a DLQ) subscribed to the given topics, with
 * the queue policy that lets exactly those topics deliver to it (real SNS
 * needs it; emulators ignore it). Optionally an SNS filter policy on `type`.
 */
export async function ensureSubscriberQueue(
  clients: { sqs: SQSClient; sns: SNSClient },
  {
    name,
    topicArns,
    eventTypes,
    visibilityTimeoutSeconds = 30,
  }: {
    name: string;
    topicArns: string[];
    /** Only these event types are delivered (SNS filter policy on the `type` attribute). */
    eventTypes?: string[];
    visibilityTimeoutSeconds?: number;
  },
): Promise<{ url: string; arn: string; report: [string, boolean][] }> {
  const report: [string, boolean][] = [];
  const dlq = await ensureQueue(clients.sqs, `${name}-dlq`, () => ({ MessageRetentionPeriod: FOURTEEN_DAYS }));
  report.push([`${name}-dlq`, dlq.created]);
  const queue = await ensureQueue(clients.sqs, name, (arn) => ({
    VisibilityTimeout: String(visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: '5' }),
    Policy: snsToSqsPolicy(arn, topicArns),
  }));
  report.push([name, queue.created]);
  const attributes: Record<string, string> = eventTypes ? { FilterPolicy: JSON.stringify({ type: eventTypes }) } : {};
  for (const topicArn of topicArns) {
    report.push([`${name} <- ${topicArn.split(':').pop()}`, await ensureSubscription(clients.sns, topicArn, queue.arn, attributes)]);
  }
  return { url: queue.url, arn: queue.arn, report };
}

async function ensureAbortIncompleteUploads(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: {
        Rules: [
          {
            ID: 'reelay-abort-incomplete-multipart-uploads',
            Status: 'Enabled',
            Filter: { Prefix: '' },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ],
      },
    }),
  );
}

/**
 * Direct uploads (`POST /v1/uploads`) PUT parts from the browser to presigned
 * raw-bucket URLs: the bucket needs a CORS rule for the app's origins, exposing
 * `ETag` (the client sends each part's ETag back on completion).
 * PutBucketCors replaces the whole rule set, so running it twice changes
 * nothing. Without origins nothing is sent: fauxqs takes `DELETE /<bucket>?cors`
 * for DeleteBucket and deletes the bucket itself, so a rule set earlier is
 * left in place (remove it with `aws s3api delete-bucket-cors` on AWS).
 */
export async function ensureUploadCors(s3: S3Client, bucket: string, origins: string[]): Promise<void> {
  if (origins.length === 0) return;
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: {
        CORSRules: [
          {
            ID: 'reelay-browser-uploads',
            AllowedOrigins: origins,
            AllowedMethods: ['PUT', 'GET', 'HEAD'],
            AllowedHeaders: ['*'],
            ExposeHeaders: ['ETag'],
            MaxAgeSeconds: 3600,
          },
        ],
      },
    }),
  );
}

async function ensureBucket(s3: S3Client, bucket: string, region: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return false;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 404) throw err;
  }
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      }),
    );
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === 'BucketAlreadyOwnedByYou') return false;
    throw err;
  }
}

/** Creates the queue when missing, then sets the wanted attributes (a no-op when they already match). */
export async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: (arn: string) => Record<string, string>,
): Promise<{ url: string; arn: string; created: boolean }> {
  let url: string | undefined;
  let created = false;
  try {
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (err) {
    const name_ = (err as { name?: string }).name ?? '';
    if (!/QueueDoesNotExist|NonExistentQueue/.test(name_)) throw err;
  }
  if (!url) {
    url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl;
    created = true;
  }
  if (!url) throw new Error(`queue ${name} has no URL`);
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${name} has no ARN`);
  const wanted = attributes(arn);
  const changed = Object.fromEntries(
    Object.entries(wanted).filter(([k, v]) => !sameAttribute((Attributes as Record<string, string> | undefined)?.[k], v)),
  );
  if (Object.keys(changed).length > 0) await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: changed }));
  return { url, arn, created };
}

/** Attribute values compared as JSON where they are JSON (key order and number-vs-string may differ by provider). */
function sameAttribute(current: string | undefined, wanted: string): boolean {
  if (current === wanted) return true;
  if (current === undefined) return false;
  try {
    return JSON.stringify(normalise(JSON.parse(current))) === JSON.stringify(normalise(JSON.parse(wanted)));
  } catch {
    return false;
  }
}

function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, normalise((value as Record<string, unknown>)[k])]),
    );
  }
  return typeof value === 'number' ? String(value) : value;
}

async function ensureTopic(sns: SNSClient, name: string, note: (name: string, created: boolean) => void): Promise<string> {
  const existing = await topicArn(sns, name).catch(() => undefined);
  if (existing) {
    note(name, false);
    return existing;
  }
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
  if (!TopicArn) throw new Error(`topic ${name} has no ARN`);
  note(name, true);
  return TopicArn;
}

/** Subscribes the queue unless it already is; an existing subscription is brought to the wanted attributes. */
async function ensureSubscription(
  sns: SNSClient,
  topicArn: string,
  queueArn: string,
  attributes: Record<string, string> = {},
): Promise<boolean> {
  let NextToken: string | undefined;
  do {
    const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }));
    const existing = page.Subscriptions?.find((s) => s.Protocol === 'sqs' && s.Endpoint === queueArn);
    if (existing?.SubscriptionArn) {
      await convergeSubscription(sns, existing.SubscriptionArn, attributes);
      return false;
    }
    NextToken = page.NextToken;
  } while (NextToken);
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn, Attributes: attributes }));
  return true;
}

async function convergeSubscription(sns: SNSClient, subscriptionArn: string, wanted: Record<string, string>): Promise<void> {
  const { Attributes = {} } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn }));
  const desired: Record<string, string> = { FilterPolicy: '', ...wanted };
  for (const [name, value] of Object.entries(desired)) {
    const current = Attributes[name] ?? '';
    if (value === '' ? current === '' || current === '{}' : sameAttribute(current, value)) continue;
    // A filter policy is removed by setting it to an empty string.
    await sns.send(new SetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn, AttributeName: name, AttributeValue: value }));
  }
}
