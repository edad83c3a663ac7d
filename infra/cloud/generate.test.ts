import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRIORITY_TIERS, resourceNames } from '../../core/resources.ts';
import { loadConfig } from '../../core/config/index.ts';
import { cloudScaling, ecsScalingTemplate, kedaManifests } from './generate.ts';

const { supervisor: settings } = loadConfig({
  REELAY_WORKERS_MIN: '2',
  REELAY_WORKERS_MAX: '12',
  REELAY_JOBS_PER_WORKER: '3',
  REELAY_SUPERVISOR_POLL_SECONDS: '0.5',
  REELAY_SCALE_DOWN_COOLDOWN_SECONDS: '90',
});
const scaling = cloudScaling(settings, { prefix: 'acme-reelay', region: 'eu-west-1' });
const names = resourceNames('acme-reelay');

describe('cloud scaling definitions', () => {
  it('take the supervisor settings in whole seconds', () => {
    expect(scaling).toEqual({
      prefix: 'acme-reelay',
      region: 'eu-west-1',
      minWorkers: 2,
      maxWorkers: 12,
      jobsPerWorker: 3,
      pollSeconds: 1,
      cooldownSeconds: 90,
    });
  });

  it('KEDA: one aws-sqs-queue trigger per tier queue, summed, at jobsPerWorker per replica within min/max', () => {
    const list = kedaManifests(scaling, { accountId: '123456789012', namespace: 'video', deployment: 'worker' }) as any;
    const [auth, scaled] = list.items;
    expect(auth).toMatchObject({
      kind: 'TriggerAuthentication',
      metadata: { name: 'worker-aws', namespace: 'video' },
      spec: { podIdentity: { provider: 'aws' } },
    });
    expect(scaled.kind).toBe('ScaledObject');
    expect(scaled.spec).toMatchObject({
      scaleTargetRef: { kind: 'Deployment', name: 'worker' },
      minReplicaCount: 2,
      maxReplicaCount: 12,
      pollingInterval: 1,
      cooldownPeriod: 90,
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: { scaleUp: { stabilizationWindowSeconds: 0 }, scaleDown: { stabilizationWindowSeconds: 90 } },
        },
        scalingModifiers: { target: '3', metricType: 'AverageValue' },
      },
    });
    const triggers = scaled.spec.triggers as any[];
    expect(triggers.map((t) => t.metadata.queueURL)).toEqual(
      PRIORITY_TIERS.map((tier) => `https://sqs.eu-west-1.amazonaws.com/123456789012/${names.tierQueue[tier]}`),
    );
    for (const trigger of triggers) {
      expect(trigger).toMatchObject({
        type: 'aws-sqs-queue',
        metadata: { queueLength: '3', awsRegion: 'eu-west-1', scaleOnInFlight: 'true' },
        authenticationRef: { name: 'worker-aws' },
      });
    }
    // The formula adds up exactly the three triggers.
    expect(scaled.spec.advanced.scalingModifiers.formula.split(' + ').sort()).toEqual(triggers.map((t) => t.name).sort());
  });

  it('KEDA: a role to assume goes into the TriggerAuthentication', () => {
    const list = kedaManifests(scaling, {
      accountId: '123456789012',
      namespace: 'v',
      deployment: 'w',
      roleArn: 'arn:aws:iam::123456789012:role/keda-sqs',
    }) as any;
    expect(list.items[0].spec.podIdentity).toEqual({ provider: 'aws', roleArn: 'arn:aws:iam::123456789012:role/keda-sqs' });
  });

  it('ECS: target tracking on (waiting + in flight of the three tier queues) / running tasks', () => {
    const template = ecsScalingTemplate(scaling, { cluster: 'prod', service: 'reelay-worker' }) as any;
    const target = template.Resources.WorkerScalableTarget;
    expect(target).toMatchObject({
      Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
      Properties: {
        ServiceNamespace: 'ecs',
        ScalableDimension: 'ecs:service:DesiredCount',
        ResourceId: 'service/prod/reelay-worker',
        MinCapacity: 2,
        MaxCapacity: 12,
      },
    });
    const policy = template.Resources.WorkerBacklogPolicy.Properties;
    expect(policy).toMatchObject({ PolicyType: 'TargetTrackingScaling', ScalingTargetId: { Ref: 'WorkerScalableTarget' } });
    const config = policy.TargetTrackingScalingPolicyConfiguration;
    expect(config).toMatchObject({ TargetValue: 3, ScaleInCooldown: 90 });

    const metrics = config.CustomizedMetricSpecification.Metrics as any[];
    const queueMetrics = metrics.filter((m) => m.MetricStat?.Metric.Namespace === 'AWS/SQS');
    for (const tier of PRIORITY_TIERS) {
      const forTier = queueMetrics.filter((m) => m.MetricStat.Metric.Dimensions[0].Value === names.tierQueue[tier]);
      expect(forTier.map((m) => m.MetricStat.Metric.MetricName).sort()).toEqual([
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesVisible',
      ]);
    }
    const tasks = metrics.find((m) => m.MetricStat?.Metric.MetricName === 'RunningTaskCount');
    expect(tasks.MetricStat.Metric.Dimensions).toEqual([
      { Name: 'ClusterName', Value: 'prod' },
      { Name: 'ServiceName', Value: 'reelay-worker' },
    ]);
    // Exactly one series is returned: the expression, built from every other query.
    const returned = metrics.filter((m) => m.ReturnData);
    expect(returned).toHaveLength(1);
    const expression: string = returned[0].Expression;
    for (const m of [...queueMetrics, tasks]) expect(expression).toMatch(new RegExp(`\\b${m.Id}\\b`));
    expect(expression).toMatch(/\/ tasks$/);
  });
});

describe('npm run cloud:render (the command)', () => {
  const render = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, ['--import', './bin/require-node.mjs', 'infra/cloud/render-main.ts', ...args], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      encoding: 'utf8',
    });

  it('refuses ECS with REELAY_WORKERS_MIN=0, saying why, and prints nothing on stdout', () => {
    const run = render({ REELAY_WORKERS_MIN: '0' }, 'ecs');
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^reelay cloud:render: REELAY_WORKERS_MIN=0: ECS target tracking .* needs at least one running task/);
  });

  it('KEDA scales from zero, so REELAY_WORKERS_MIN=0 is fine there; stdout is the JSON alone', () => {
    const run = render({ REELAY_WORKERS_MIN: '0' }, 'keda', '--account', '123456789012');
    expect(run.status).toBe(0);
    const list = JSON.parse(run.stdout) as { items: Array<{ kind: string; spec?: { minReplicaCount?: number } }> };
    expect(list.items.find((i) => i.kind === 'ScaledObject')?.spec?.minReplicaCount).toBe(0);
  });
});
