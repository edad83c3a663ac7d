import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/index.ts';
import { PRIORITY_TIERS, redriveMaxReceiveCount, resourceNames } from '../../core/resources.ts';
import { cloudScaling, ecsScalingTemplate } from '../cloud/generate.ts';
import { resourceSpec } from '../resource-spec.ts';
import { buildApp } from './app.ts';

/**
 * The CDK stack, synthesised once (offline) and checked with
 * aws-cdk-lib/assertions: the resources `resourceSpec()` defines (the ones
 * `provision()` creates), the worker scaling rule, the alarms, and IAM
 * without wildcard actions.
 */
const env = {
  REELAY_PREFIX: 'cdktest',
  REELAY_MAX_ATTEMPTS: '4',
  REELAY_VISIBILITY_TIMEOUT_SECONDS: '90',
  REELAY_WORKERS_MIN: '1',
  REELAY_WORKERS_MAX: '6',
  REELAY_JOBS_PER_WORKER: '3',
};
const names = resourceNames('cdktest');
const spec = resourceSpec({ prefix: 'cdktest', visibilityTimeoutSeconds: 90, maxAttempts: 4 });
let template: Template;
let resources: Record<string, { Type: string; Properties: Record<string, any> }>;

beforeAll(() => {
  const { stack } = buildApp(loadConfig(env));
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
}, 180_000);

const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);

describe('CDK stack: resources from the one resource spec', () => {
  it('private, encrypted buckets that abort incomplete uploads after a day', () => {
    for (const { name } of spec.buckets) {
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketName: name,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' })]),
        },
      });
    }
    template.resourceCountIs('AWS::S3::Bucket', 2);
  });

  it('every queue of the spec, with its visibility, retention and redrive', () => {
    const queueNames = ofType('AWS::SQS::Queue')
      .map((q) => q.Properties.QueueName)
      .sort();
    expect(queueNames).toEqual([...spec.queues, ...spec.subscribers.flatMap((s) => [s.dlq, s.queue])].map((q) => q.name).sort());
    for (const tier of PRIORITY_TIERS) {
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: names.tierQueue[tier],
        VisibilityTimeout: 90,
        MessageRetentionPeriod: 14 * 24 * 3600,
        RedrivePolicy: { maxReceiveCount: redriveMaxReceiveCount(4), deadLetterTargetArn: Match.anyValue() },
      });
    }
  });

  it('both topics, each subscribed by the notifier and webhook queues with their filter policies', () => {
    template.resourceCountIs('AWS::SNS::Topic', 2);
    const subs = ofType('AWS::SNS::Subscription');
    expect(subs).toHaveLength(4);
    const notifier = spec.subscribers.find((s) => s.queue.name === names.notifierQueue)!;
    expect(notifier.eventTypes).not.toContain('video.progress');
    for (const sub of subs) expect(sub.Properties).toMatchObject({ Protocol: 'sqs', FilterPolicy: { type: expect.any(Array) } });
    const filters = subs.map((s) => (s.Properties.FilterPolicy.type as string[]).slice().sort());
    expect(filters).toContainEqual(notifier.eventTypes.slice().sort());
  });

  it('an alarm on every dead-letter queue', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.map((a) => a.Properties.AlarmName).sort()).toEqual(spec.dlqs.map((name) => `${name} has messages`).sort());
    for (const alarm of alarms)
      expect(alarm.Properties).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
  });
});

describe('CDK stack: services', () => {
  it('the API on Fargate behind a public ALB, health-checked on /healthz', () => {
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 2);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing', Type: 'application' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { HealthCheckPath: '/healthz', TargetType: 'ip' });
    template.hasResourceProperties('AWS::ECS::Service', { ServiceName: 'cdktest-api', LaunchType: 'FARGATE' });
    for (const role of ['workers', 'notifier', 'webhooks', 'live'])
      template.hasResourceProperties('AWS::ECS::Service', { ServiceName: `cdktest-${role}` });
    template.resourceCountIs('AWS::Logs::LogGroup', 5);
  });

  it('the live ingest on Fargate behind a public NLB: RTMP on TCP 1935, open to encoders, its URL given to the API', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing', Type: 'network' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 1935, Protocol: 'TCP' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Protocol: 'TCP', TargetType: 'ip' });
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'cdktest-live',
      LoadBalancers: [Match.objectLike({ ContainerPort: 1935 })],
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Command: ['node', 'workers/live/main.ts'],
          PortMappings: [Match.objectLike({ ContainerPort: 1935, Protocol: 'tcp' })],
          StopTimeout: 60,
          Environment: Match.arrayWith([{ Name: 'REELAY_LIVE_HOST', Value: '0.0.0.0' }]),
        }),
      ],
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: Match.arrayWith([Match.objectLike({ IpProtocol: 'tcp', FromPort: 1935, ToPort: 1935, CidrIp: '0.0.0.0/0' })]),
    });
    const apiTask = ofType('AWS::ECS::TaskDefinition').find((t) =>
      JSON.stringify(t.Properties.ContainerDefinitions).includes('api/main.ts'),
    )!;
    expect(JSON.stringify(apiTask.Properties.ContainerDefinitions)).toContain('REELAY_LIVE_RTMP_URL');
    template.hasOutput('RtmpUrl', {});
  });

  it('workers scale on the tier backlog per task, exactly the rule cloud:render and the supervisor use', () => {
    const policy = ofType('AWS::ApplicationAutoScaling::ScalingPolicy');
    expect(policy).toHaveLength(1);
    const config = policy[0]!.Properties.TargetTrackingScalingPolicyConfiguration;
    expect(config.TargetValue).toBe(3);
    const expected = ecsScalingTemplate(
      cloudScaling(
        { minWorkers: 1, maxWorkers: 6, jobsPerWorker: 3, standbyWorkers: 0, pollMs: 5000, scaleDownCooldownMs: 60_000, port: 0 },
        { prefix: 'cdktest', region: 'us-east-1' },
      ),
      {
        cluster: 'C',
        service: 'S',
      },
    ) as {
      Resources: {
        WorkerBacklogPolicy: {
          Properties: {
            TargetTrackingScalingPolicyConfiguration: { CustomizedMetricSpecification: { Metrics: { Id: string; Expression?: string }[] } };
          };
        };
      };
    };
    const want =
      expected.Resources.WorkerBacklogPolicy.Properties.TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification.Metrics;
    const got = config.CustomizedMetricSpecification.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { Dimensions: { Value: unknown }[] } };
    }[];
    expect(got.map((m) => m.Id)).toEqual(want.map((m) => m.Id));
    expect(got.find((m) => m.Expression)?.Expression).toBe(want.find((m) => m.Expression)?.Expression);
    for (const tier of PRIORITY_TIERS) expect(JSON.stringify(got)).toContain(`"Value":"${names.tierQueue[tier]}"`);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 6,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
  });
});

describe('CDK stack: least-privilege IAM', () => {
  const statements = () =>
    ofType('AWS::IAM::Policy').flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).map((s) => ({
        roles: JSON.stringify(p.Properties.Roles),
        actions: ([] as string[]).concat(s.Action),
        resource: s.Resource,
      })),
    );

  it('no action is a wildcard (`*` or `service:*`)', () => {
    for (const s of statements()) for (const action of s.actions) expect(action, s.roles).not.toMatch(/(^\*$|:\*$)/);
  });

  it('only list-style actions that AWS cannot scope to a resource have Resource "*"', () => {
    const allowed = new Set(['sqs:ListQueues', 'sns:ListTopics', 'ecr:GetAuthorizationToken']);
    for (const s of statements().filter((s) => s.resource === '*'))
      for (const action of s.actions) expect(allowed, action).toContain(action);
  });

  it('each role gets only its own queues: the notifier cannot queue jobs, the worker cannot create queues', () => {
    const policyOf = (role: string) =>
      JSON.stringify(
        ofType('AWS::IAM::Policy')
          .filter((p) => JSON.stringify(p.Properties.Roles).includes(role.replace(/-/g, '')))
          .map((p) => p.Properties.PolicyDocument),
      );
    const notifier = policyOf('notifier-task-role');
    expect(notifier).toContain('sqs:ReceiveMessage');
    expect(notifier).not.toContain('sqs:SendMessage');
    expect(notifier).not.toContain('s3:');
    const worker = policyOf('worker-task-role');
    expect(worker).toContain('sqs:ReceiveMessage');
    expect(worker).not.toContain('sqs:CreateQueue');
    const api = policyOf('api-task-role');
    expect(api).toContain('sqs:CreateQueue');
    // The live ingest queues recordings (at high only), writes both buckets, and consumes no queue.
    const live = policyOf('live-task-role');
    expect(live).toContain('sqs:SendMessage');
    expect(live).not.toContain('sqs:ReceiveMessage');
    expect(live).toContain('s3:PutObject');
    expect(live).toContain('sns:Publish');
  });
});
