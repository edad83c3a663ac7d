import { CfnOutput, CfnResource, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ecsPatterns from 'aws-cdk-lib/aws-ecs-patterns';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { PRIORITY_TIERS, resourceNames } from '../../core/resources.ts';
import { ecsScalingTemplate, type CloudScaling } from '../cloud/generate.ts';
import { resourceSpec, type SpecSettings } from '../resource-spec.ts';

/** Where encoders publish: `rtmp://<load balancer>:1935/live/<stream key>`. */
const RTMP_PORT = 1935;

export interface ReelayStackProps extends StackProps {
  /** Names and queue settings, as `npm run provision` would create them. */
  spec: SpecSettings;
  /** The worker scaling rule the supervisor and the KEDA output use (cloudScaling()). */
  scaling: CloudScaling;
  /** The reelay container image (one image, a command per role). */
  image: string;
}

/**
 * reelay on AWS: the buckets, queues, topics and subscriptions of
 * `resourceSpec()` (the same definitions `provision()` creates), the API on
 * Fargate behind an ALB, the live ingest on Fargate behind an NLB (RTMP, TCP
 * 1935), the transcode workers on Fargate scaled on the tier queues' backlog
 * per task, the notifier and webhook dispatcher, one least-privilege task role
 * and log group per role, and an alarm per DLQ.
 */
export class ReelayStack extends Stack {
  constructor(scope: Construct, id: string, props: ReelayStackProps) {
    super(scope, id, props);
    const { prefix } = props.spec;
    const spec = resourceSpec(props.spec);
    const names = resourceNames(prefix);

    // Storage: private, encrypted, TLS only; incomplete multipart uploads aborted.
    const buckets = new Map<string, s3.Bucket>();
    for (const b of spec.buckets) {
      buckets.set(
        b.name,
        new s3.Bucket(this, b.name, {
          bucketName: b.name,
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          encryption: s3.BucketEncryption.S3_MANAGED,
          enforceSSL: true,
          lifecycleRules: [
            {
              id: 'reelay-abort-incomplete-multipart-uploads',
              abortIncompleteMultipartUploadAfter: Duration.days(b.abortIncompleteUploadsAfterDays),
            },
          ],
          removalPolicy: RemovalPolicy.RETAIN,
        }),
      );
    }
    const raw = buckets.get(names.rawBucket)!;
    const media = buckets.get(names.mediaBucket)!;

    // Queues, each after its DLQ, with the spec's settings.
    const queues = new Map<string, sqs.Queue>();
    const makeQueue = (q: (typeof spec.queues)[number]) => {
      const queue = new sqs.Queue(this, q.name, {
        queueName: q.name,
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        ...(q.visibilityTimeoutSeconds !== undefined ? { visibilityTimeout: Duration.seconds(q.visibilityTimeoutSeconds) } : {}),
        ...(q.retentionSeconds !== undefined ? { retentionPeriod: Duration.seconds(q.retentionSeconds) } : {}),
        ...(q.redrive ? { deadLetterQueue: { queue: queues.get(q.redrive.dlq)!, maxReceiveCount: q.redrive.maxReceiveCount } } : {}),
      });
      queues.set(q.name, queue);
      return queue;
    };
    for (const q of spec.queues) makeQueue(q);

    const topics = new Map(spec.topics.map((name) => [name, new sns.Topic(this, name, { topicName: name })]));
    for (const s of spec.subscribers) {
      makeQueue(s.dlq);
      const queue = makeQueue(s.queue);
      for (const topic of s.topics) {
        topics.get(topic)!.addSubscription(
          new subscriptions.SqsSubscription(queue, {
            filterPolicy: { type: sns.SubscriptionFilter.stringFilter({ allowlist: s.eventTypes }) },
          }),
        );
      }
    }

    // An alarm on every DLQ: anything there is a video, event or delivery that needs a person.
    for (const name of spec.dlqs) {
      new cloudwatch.Alarm(this, `${name}-depth`, {
        alarmName: `${name} has messages`,
        alarmDescription: `Messages in ${name}: see the README (Reliability) for redrive.`,
        metric: queues.get(name)!.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // Compute: one cluster, a service per role, the same image with a different command.
    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const image = ecs.ContainerImage.fromRegistry(props.image);
    const environment = { AWS_REGION: this.region, REELAY_PREFIX: prefix, REELAY_LOG_FORMAT: 'json', REELAY_METRICS_HOST: '0.0.0.0' };
    const logGroup = (role: string) =>
      new logs.LogGroup(this, `${role}-logs`, {
        logGroupName: `/reelay/${prefix}/${role}`,
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
    const taskRole = (role: string) =>
      new iam.Role(this, `${role}-task-role`, {
        roleName: `${prefix}-${role}`,
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      });

    const tierQueues = PRIORITY_TIERS.map((tier) => queues.get(names.tierQueue[tier])!);
    const tierDlqs = PRIORITY_TIERS.map((tier) => queues.get(names.tierDlq[tier])!);
    const allTopics = [...topics.values()];

    // Live ingest: RTMP from encoders through a network load balancer (TCP passes through: the ingest checks
    // stream keys itself and sees the encoder's address). It writes the live presentation, channel and lease
    // documents to the media bucket, recording parts and the recording's source to the raw bucket, queues
    // the recording at high and publishes live events. SRT is not offered (see the README's Live section).
    const liveRole = taskRole('live');
    raw.grantReadWrite(liveRole);
    raw.grantDelete(liveRole);
    media.grantReadWrite(liveRole);
    media.grantDelete(liveRole);
    queues.get(names.tierQueue.high)!.grantSendMessages(liveRole);
    for (const t of allTopics) t.grantPublish(liveRole);
    liveRole.addToPolicy(new iam.PolicyStatement({ sid: 'FindTopics', actions: ['sns:ListTopics'], resources: ['*'] }));
    const liveTask = new ecs.FargateTaskDefinition(this, 'LiveTask', { cpu: 2048, memoryLimitMiB: 4096, taskRole: liveRole });
    liveTask.addContainer('live', {
      image,
      command: ['node', 'workers/live/main.ts'],
      environment: { ...environment, REELAY_LIVE_HOST: '0.0.0.0', REELAY_LIVE_RTMP_PORT: String(RTMP_PORT) },
      portMappings: [{ containerPort: RTMP_PORT, protocol: ecs.Protocol.TCP }],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'live', logGroup: logGroup('live') }),
      // A stopping task ends its publishers' input and stores ffmpeg's last segments before it exits.
      stopTimeout: Duration.seconds(60),
    });
    const live = new ecsPatterns.NetworkLoadBalancedFargateService(this, 'Live', {
      cluster,
      serviceName: `${prefix}-live`,
      taskDefinition: liveTask,
      desiredCount: 2,
      listenerPort: RTMP_PORT,
      publicLoadBalancer: true,
    });
    // An NLB keeps the encoder's address: the tasks take RTMP from anywhere (the key is checked before any media).
    live.service.connections.allowFromAnyIpv4(ec2.Port.tcp(RTMP_PORT), 'RTMP from encoders');
    const rtmpUrl = `rtmp://${live.loadBalancer.loadBalancerDnsName}:${RTMP_PORT}/live`;

    // API: streams uploads into the raw bucket, reads and writes status documents, queues jobs, publishes,
    // and owns one realtime queue per task (created, subscribed and deleted at run time).
    const apiRole = taskRole('api');
    raw.grantPut(apiRole);
    raw.grantRead(apiRole);
    raw.grantDelete(apiRole);
    media.grantReadWrite(apiRole);
    media.grantDelete(apiRole);
    for (const q of tierQueues) q.grantSendMessages(apiRole);
    for (const t of allTopics) t.grantPublish(apiRole);
    const realtimeArn = this.formatArn({ service: 'sqs', resource: `${names.realtimeQueuePrefix}*` });
    apiRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RealtimeQueues',
        actions: [
          'sqs:CreateQueue',
          'sqs:DeleteQueue',
          'sqs:GetQueueUrl',
          'sqs:GetQueueAttributes',
          'sqs:SetQueueAttributes',
          'sqs:TagQueue',
          'sqs:ListQueueTags',
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
        ],
        resources: [realtimeArn],
      }),
    );
    // ListQueues (finding orphaned realtime queues) cannot be narrowed to a resource.
    apiRole.addToPolicy(new iam.PolicyStatement({ sid: 'ListQueues', actions: ['sqs:ListQueues'], resources: ['*'] }));
    apiRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RealtimeSubscriptions',
        actions: ['sns:Subscribe', 'sns:Unsubscribe', 'sns:ListSubscriptionsByTopic'],
        resources: allTopics.map((t) => t.topicArn),
      }),
    );
    // Unsubscribe is authorised on the subscription, whose ARN extends the topic's.
    apiRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RealtimeUnsubscribe',
        actions: ['sns:Unsubscribe'],
        resources: allTopics.map((t) => `${t.topicArn}:*`),
      }),
    );
    apiRole.addToPolicy(new iam.PolicyStatement({ sid: 'FindTopics', actions: ['sns:ListTopics'], resources: ['*'] }));

    const api = new ecsPatterns.ApplicationLoadBalancedFargateService(this, 'Api', {
      cluster,
      serviceName: `${prefix}-api`,
      cpu: 1024,
      memoryLimitMiB: 2048,
      desiredCount: 2,
      taskImageOptions: {
        image,
        command: ['node', 'api/main.ts'],
        containerPort: 3000,
        environment: { ...environment, HOST: '0.0.0.0', PORT: '3000', REELAY_LIVE_RTMP_URL: rtmpUrl },
        taskRole: apiRole,
        logDriver: ecs.LogDrivers.awsLogs({ streamPrefix: 'api', logGroup: logGroup('api') }),
      },
      publicLoadBalancer: true,
    });
    api.targetGroup.configureHealthCheck({ path: '/healthz' });

    // Workers: read sources, write outputs and status documents, consume (and hand back) tier jobs,
    // dead-letter failed ones, publish events.
    const workerRole = taskRole('worker');
    raw.grantRead(workerRole);
    media.grantReadWrite(workerRole);
    for (const q of tierQueues) {
      q.grantConsumeMessages(workerRole);
      q.grantSendMessages(workerRole);
    }
    for (const q of tierDlqs) q.grantSendMessages(workerRole);
    for (const t of allTopics) t.grantPublish(workerRole);
    workerRole.addToPolicy(new iam.PolicyStatement({ sid: 'FindTopics', actions: ['sns:ListTopics'], resources: ['*'] }));
    const workerTask = new ecs.FargateTaskDefinition(this, 'WorkerTask', { cpu: 2048, memoryLimitMiB: 4096, taskRole: workerRole });
    workerTask.addContainer('worker', {
      image,
      command: ['node', 'workers/transcode/main.ts'],
      environment,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'worker', logGroup: logGroup('worker') }),
      stopTimeout: Duration.seconds(120),
    });
    const workers = new ecs.FargateService(this, 'Workers', {
      cluster,
      serviceName: `${prefix}-workers`,
      taskDefinition: workerTask,
      desiredCount: props.scaling.minWorkers,
    });

    // The supervisor's rule, as `npm run cloud:render -- ecs` renders it (one definition): target tracking on
    // (waiting + in flight over the three tiers) / running tasks, at jobsPerWorker. The CDK's own target
    // tracking takes no metric math, so the rendered resources go in as they are.
    const rendered = ecsScalingTemplate(props.scaling, { cluster: cluster.clusterName, service: workers.serviceName }) as {
      Resources: Record<'WorkerScalableTarget' | 'WorkerBacklogPolicy', { Type: string; Properties: Record<string, unknown> }>;
    };
    const target = new CfnResource(this, 'WorkerScalableTarget', {
      type: rendered.Resources.WorkerScalableTarget.Type,
      properties: rendered.Resources.WorkerScalableTarget.Properties,
    });
    target.node.addDependency(workers);
    new CfnResource(this, 'WorkerBacklogPolicy', {
      type: rendered.Resources.WorkerBacklogPolicy.Type,
      properties: { ...rendered.Resources.WorkerBacklogPolicy.Properties, ScalingTargetId: target.ref },
    });

    // Subscribers: the notifier reads its queue; the webhook dispatcher fans out, delivers and dead-letters,
    // reads webhook documents (and records failures on them), and publishes webhook.disabled.
    const notifierRole = taskRole('notifier');
    queues.get(names.notifierQueue)!.grantConsumeMessages(notifierRole);
    const webhooksRole = taskRole('webhooks');
    queues.get(names.webhooksQueue)!.grantConsumeMessages(webhooksRole);
    queues.get(names.webhookDeliveriesQueue)!.grantConsumeMessages(webhooksRole);
    queues.get(names.webhookDeliveriesQueue)!.grantSendMessages(webhooksRole);
    queues.get(names.webhookDeliveriesDlq)!.grantSendMessages(webhooksRole);
    media.grantReadWrite(webhooksRole);
    for (const t of allTopics) t.grantPublish(webhooksRole);
    webhooksRole.addToPolicy(new iam.PolicyStatement({ sid: 'FindTopics', actions: ['sns:ListTopics'], resources: ['*'] }));
    for (const [role, script, taskRoleFor] of [
      ['notifier', 'workers/notifier/main.ts', notifierRole],
      ['webhooks', 'workers/webhooks/main.ts', webhooksRole],
    ] as const) {
      const task = new ecs.FargateTaskDefinition(this, `${role}-task`, { cpu: 256, memoryLimitMiB: 512, taskRole: taskRoleFor });
      task.addContainer(role, {
        image,
        command: ['node', script],
        environment,
        logging: ecs.LogDrivers.awsLogs({ streamPrefix: role, logGroup: logGroup(role) }),
      });
      new ecs.FargateService(this, `${role}-service`, { cluster, serviceName: `${prefix}-${role}`, taskDefinition: task, desiredCount: 1 });
    }

    new CfnOutput(this, 'ApiUrl', { value: `http://${api.loadBalancer.loadBalancerDnsName}` });
    new CfnOutput(this, 'RtmpUrl', { value: rtmpUrl });
  }
}
