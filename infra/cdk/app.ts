import { App } from 'aws-cdk-lib';
import type { Config } from '../../core/config/index.ts';
import { cloudScaling } from '../cloud/generate.ts';
import { ReelayStack } from './reelay-stack.ts';

/**
 * The CDK app: the stack from the same settings the local stack uses
 * (REELAY_PREFIX, REELAY_VISIBILITY_TIMEOUT_SECONDS, REELAY_MAX_ATTEMPTS, the
 * REELAY_WORKERS_* / REELAY_JOBS_PER_WORKER scaling rule), and the image from
 * REELAY_IMAGE. Account and region come from the CDK's environment (`config.cdk`).
 */
export function buildApp(config: Config, outdir?: string): { app: App; stack: ReelayStack } {
  const app = new App(outdir ? { outdir } : {});
  const stack = new ReelayStack(app, `reelay-${config.prefix}`, {
    spec: {
      prefix: config.prefix,
      visibilityTimeoutSeconds: config.worker.visibilityTimeoutMs / 1000,
      maxAttempts: config.worker.maxAttempts,
    },
    scaling: cloudScaling(config.supervisor, { prefix: config.prefix, region: config.aws.region }),
    image: config.cdk.image,
    ...(config.cdk.account ? { env: { account: config.cdk.account, region: config.cdk.region } } : {}),
  });
  return { app, stack };
}
