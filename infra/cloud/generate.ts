import { PRIORITY_TIERS, resourceNames, type PriorityTier } from '../../core/resources.ts';
import type { SupervisorSettings } from '../../core/config/index.ts';

/**
 * The cloud equivalents of the local supervisor, generated from the same
 * numbers: a KEDA ScaledObject for a Kubernetes worker Deployment and an ECS
 * target-tracking policy on backlog per task. Both count a tier's jobs as
 * waiting + in flight, like the supervisor, and aim at `jobsPerWorker` jobs
 * per worker across the three tiers together. Pure functions: objects in,
 * objects out (JSON is valid YAML; kubectl and CloudFormation take it as is).
 */
export interface CloudScaling {
  prefix: string;
  region: string;
  minWorkers: number;
  maxWorkers: number;
  jobsPerWorker: number;
  /** How often the queue depth is read, seconds. */
  pollSeconds: number;
  /** How long fewer workers must suffice before scaling in, seconds. */
  cooldownSeconds: number;
}

/** The supervisor's settings in the cloud's units (whole seconds, at least 1 s between polls). */
export function cloudScaling(settings: SupervisorSettings, { prefix, region }: { prefix: string; region: string }): CloudScaling {
  return {
    prefix,
    region,
    minWorkers: settings.minWorkers,
    maxWorkers: settings.maxWorkers,
    jobsPerWorker: settings.jobsPerWorker,
    pollSeconds: Math.max(1, Math.ceil(settings.pollMs / 1000)),
    cooldownSeconds: Math.ceil(settings.scaleDownCooldownMs / 1000),
  };
}

export function sqsQueueUrl(region: string, accountId: string, name: string): string {
  return `https://sqs.${region}.amazonaws.com/${accountId}/${name}`;
}

/** KEDA trigger names, used in the formula that adds the tiers up. */
const triggerName = (tier: PriorityTier) => `${tier}_jobs`;

/**
 * A `List` with a TriggerAuthentication (AWS pod identity: the KEDA operator's
 * own role, or `roleArn`) and the ScaledObject. One aws-sqs-queue trigger per
 * tier (scaleOnInFlight: waiting + in flight); `scalingModifiers` adds the
 * three into one metric with target `jobsPerWorker`, so the replica count is
 * ceil(total / jobsPerWorker) as locally. Without it the HPA would take the
 * largest tier alone. The HPA's scale-down stabilization window carries the
 * cooldown (KEDA's `cooldownPeriod` only governs the last replica to zero).
 */
export function kedaManifests(
  s: CloudScaling,
  { accountId, namespace, deployment, roleArn }: { accountId: string; namespace: string; deployment: string; roleArn?: string },
): Record<string, unknown> {
  const names = resourceNames(s.prefix);
  const auth = `${deployment}-aws`;
  const metadata = (name: string) => ({ name, namespace, labels: { 'app.kubernetes.io/part-of': 'reelay' } });
  const triggerAuthentication = {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'TriggerAuthentication',
    metadata: metadata(auth),
    spec: { podIdentity: { provider: 'aws', ...(roleArn ? { roleArn } : {}) } },
  };
  const scaledObject = {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: metadata(deployment),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment },
      pollingInterval: s.pollSeconds,
      cooldownPeriod: s.cooldownSeconds,
      minReplicaCount: s.minWorkers,
      maxReplicaCount: s.maxWorkers,
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: {
            scaleUp: { stabilizationWindowSeconds: 0 },
            scaleDown: { stabilizationWindowSeconds: s.cooldownSeconds },
          },
        },
        scalingModifiers: {
          formula: PRIORITY_TIERS.map(triggerName).join(' + '),
          target: String(s.jobsPerWorker),
          metricType: 'AverageValue',
        },
      },
      triggers: PRIORITY_TIERS.map((tier) => ({
        type: 'aws-sqs-queue',
        name: triggerName(tier),
        metadata: {
          queueURL: sqsQueueUrl(s.region, accountId, names.tierQueue[tier]),
          queueLength: String(s.jobsPerWorker),
          awsRegion: s.region,
          scaleOnInFlight: 'true',
        },
        authenticationRef: { name: auth },
      })),
    },
  };
  return { apiVersion: 'v1', kind: 'List', items: [triggerAuthentication, scaledObject] };
}

/**
 * A CloudFormation template: the ECS service's scalable target (min/max tasks)
 * and a target-tracking policy on backlog per task = (waiting + in-flight jobs
 * of the three tier queues) / RunningTaskCount, with target `jobsPerWorker`.
 * RunningTaskCount comes from Container Insights, which must be on for the cluster.
 */
export function ecsScalingTemplate(s: CloudScaling, { cluster, service }: { cluster: string; service: string }): Record<string, unknown> {
  // Backlog per task divides by the running tasks: a service at zero tasks has no metric to scale out from.
  if (s.minWorkers < 1) {
    throw new RangeError(
      `REELAY_WORKERS_MIN=${s.minWorkers}: ECS target tracking on backlog per task needs at least one running task (at zero there is no metric to scale out from); set REELAY_WORKERS_MIN=1 or more, or use keda, which scales from zero`,
    );
  }
  const names = resourceNames(s.prefix);
  const queueMetric = (id: string, metricName: string, tier: PriorityTier) => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: 'AWS/SQS', MetricName: metricName, Dimensions: [{ Name: 'QueueName', Value: names.tierQueue[tier] }] },
      Stat: 'Sum',
    },
    ReturnData: false,
  });
  const jobs = PRIORITY_TIERS.flatMap((tier) => [
    queueMetric(`waiting_${tier}`, 'ApproximateNumberOfMessagesVisible', tier),
    queueMetric(`inflight_${tier}`, 'ApproximateNumberOfMessagesNotVisible', tier),
  ]);
  const tasks = {
    Id: 'tasks',
    MetricStat: {
      Metric: {
        Namespace: 'ECS/ContainerInsights',
        MetricName: 'RunningTaskCount',
        Dimensions: [
          { Name: 'ClusterName', Value: cluster },
          { Name: 'ServiceName', Value: service },
        ],
      },
      Stat: 'Average',
    },
    ReturnData: false,
  };
  const backlogPerTask = {
    Id: 'backlog_per_task',
    Expression: `(${jobs.map((m) => m.Id).join(' + ')}) / tasks`,
    Label: 'reelay jobs (waiting + in flight) per running worker task',
    ReturnData: true,
  };
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `reelay workers (${s.prefix}): ${s.minWorkers}-${s.maxWorkers} tasks of ${cluster}/${service}, ${s.jobsPerWorker} jobs per task. Needs Container Insights on the cluster and at least 1 task (backlog per task divides by running tasks).`,
    Resources: {
      WorkerScalableTarget: {
        Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
        Properties: {
          ServiceNamespace: 'ecs',
          ScalableDimension: 'ecs:service:DesiredCount',
          ResourceId: `service/${cluster}/${service}`,
          MinCapacity: s.minWorkers,
          MaxCapacity: s.maxWorkers,
        },
      },
      WorkerBacklogPolicy: {
        Type: 'AWS::ApplicationAutoScaling::ScalingPolicy',
        Properties: {
          PolicyName: `${s.prefix}-worker-backlog-per-task`,
          PolicyType: 'TargetTrackingScaling',
          ScalingTargetId: { Ref: 'WorkerScalableTarget' },
          TargetTrackingScalingPolicyConfiguration: {
            TargetValue: s.jobsPerWorker,
            ScaleInCooldown: s.cooldownSeconds,
            // SQS publishes its metrics once a minute: scaling out again sooner would count the same backlog twice.
            ScaleOutCooldown: 60,
            CustomizedMetricSpecification: { Metrics: [...jobs, tasks, backlogPerTask] },
          },
        },
      },
    },
  };
}
