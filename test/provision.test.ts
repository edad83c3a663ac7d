import { GetBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetSubscriptionAttributesCommand, ListSubscriptionsByTopicCommand } from '@aws-sdk/client-sns';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { topicArn } from '../core/resources.ts';
import { ensureSubscriberQueue, provision, REDRIVE_SLACK } from '../infra/provision.ts';
import { resourceSpec } from '../infra/resource-spec.ts';
import { describeAccount, describeSpec } from './support/provisioned-resources.ts';
import { startTestStack, uniquePrefix, type TestStack } from './support/stack.ts';

const root = path.resolve(import.meta.dirname, '..');

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
});
afterAll(async () => {
  await stack?.stop();
});

describe('provisioning (real emulator)', () => {
  it('creates everything once; running it again changes nothing', async () => {
    const prefix = uniquePrefix('prov');
    const settings = { prefix, region: 'us-east-1', visibilityTimeoutSeconds: 45, maxAttempts: 4 };
    const first = await provision(stack.clients, settings, silentLogger());
    expect(first.created).toEqual(
      expect.arrayContaining([
        `${prefix}-raw`,
        `${prefix}-media`,
        `${prefix}-transcode-high`,
        `${prefix}-transcode-low-dlq`,
        `${prefix}-video-events`,
        `${prefix}-notifier`,
      ]),
    );
    const second = await provision(stack.clients, settings, silentLogger());
    expect(second.created).toEqual([]);
    expect(second.existing.sort()).toEqual(first.created.sort());

    const { Attributes } = await stack.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.resources.tierQueueUrl.high.replace(stack.config.prefix, prefix),
        AttributeNames: ['All'],
      }),
    );
    expect(Attributes?.VisibilityTimeout).toBe('45');
    expect(JSON.parse(Attributes!.RedrivePolicy!)).toMatchObject({
      deadLetterTargetArn: expect.stringContaining(`${prefix}-transcode-high-dlq`),
      maxReceiveCount: expect.anything(),
    });
    expect(Number(JSON.parse(Attributes!.RedrivePolicy!).maxReceiveCount)).toBe(4 + REDRIVE_SLACK);
    const lifecycle = await stack.clients.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: `${prefix}-raw` }));
    expect(lifecycle.Rules?.[0]).toMatchObject({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } });
  });

  // The LocalStack path (localstack/README.md) is this command against LocalStack's endpoint; under
  // `npm run test:parity` the stack's endpoint is a LocalStack started from its Python package.
  it('`npm run provision` against an endpoint creates exactly what infra/resource-spec.ts describes', async () => {
    const prefix = uniquePrefix('cli');
    await promisify(execFile)('npm', ['run', '--silent', 'provision'], {
      cwd: root,
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_ENDPOINT_URL: stack.config.aws.endpoint,
        AWS_REGION: stack.config.aws.region,
        REELAY_PREFIX: prefix,
        REELAY_MAX_ATTEMPTS: '4',
        REELAY_VISIBILITY_TIMEOUT_SECONDS: '45',
      },
    });
    const spec = resourceSpec({ prefix, visibilityTimeoutSeconds: 45, maxAttempts: 4 });
    expect(await describeAccount(stack.clients, spec)).toEqual(describeSpec(spec));
  });

  it('a subscriber queue gets its filter policy, and a changed one is applied', async () => {
    const videoTopic = await topicArn(stack.clients.sns, stack.resources.names.videoTopic);
    const filterOf = async (queueArn: string) => {
      const subs = await stack.clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: videoTopic }));
      const sub = subs.Subscriptions!.filter((s) => s.Endpoint === queueArn);
      expect(sub).toHaveLength(1);
      const { Attributes } = await stack.clients.sns.send(
        new GetSubscriptionAttributesCommand({ SubscriptionArn: sub[0]!.SubscriptionArn }),
      );
      return Attributes?.FilterPolicy ? JSON.parse(Attributes.FilterPolicy) : undefined;
    };
    const name = `${stack.config.prefix}-sub-test`;
    const first = await ensureSubscriberQueue(stack.clients, { name, topicArns: [videoTopic], eventTypes: ['video.ready'] });
    expect(await filterOf(first.arn)).toEqual({ type: ['video.ready'] });
    await ensureSubscriberQueue(stack.clients, { name, topicArns: [videoTopic], eventTypes: ['video.failed', 'video.ready'] });
    expect(await filterOf(first.arn)).toEqual({ type: ['video.failed', 'video.ready'] });
  });
});
