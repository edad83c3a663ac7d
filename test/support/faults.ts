import type { S3Client } from '@aws-sdk/client-s3';
import { createAwsClients } from '../../core/aws.ts';
import type { Config } from '../../core/config.ts';

/**
 * A real S3 client to the emulator that fails chosen calls, for testing
 * retries: `remaining` calls matching `when` throw a 503-like error before
 * reaching the wire (the SDK's own retries do not see them).
 */
export function faultyS3(
  aws: Config['aws'],
  { when, remaining }: { when: (command: string, input: { Key?: string }) => boolean; remaining: number },
): { s3: S3Client; faults: { remaining: number; injected: number } } {
  const faults = { remaining, injected: 0 };
  const { s3, sqs, sns } = createAwsClients(aws);
  sqs.destroy();
  sns.destroy();
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (faults.remaining > 0 && when(context.commandName ?? '', args.input as { Key?: string })) {
        faults.remaining--;
        faults.injected++;
        throw Object.assign(new Error('injected fault: S3 is unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
      }
      return next(args);
    },
    { step: 'initialize', name: 'reelayFaultInjection' },
  );
  return { s3, faults };
}
