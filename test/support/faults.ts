import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
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

/** A real SNS client to the emulator whose first `remaining` publishes matching `when` fail before the wire. */
export function faultySns(
  aws: Config['aws'],
  { when, remaining }: { when: (message: string) => boolean; remaining: number },
): { sns: SNSClient; faults: { remaining: number; injected: number } } {
  const faults = { remaining, injected: 0 };
  const { s3, sqs, sns } = createAwsClients(aws);
  s3.destroy();
  sqs.destroy();
  sns.middlewareStack.add(
    (next, context) => async (args) => {
      const message = (args.input as { Message?: string }).Message ?? '';
      if (context.commandName === 'PublishCommand' && faults.remaining > 0 && when(message)) {
        faults.remaining--;
        faults.injected++;
        throw Object.assign(new Error('injected fault: SNS is unavailable'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
      }
      return next(args);
    },
    { step: 'initialize', name: 'reelaySnsFaultInjection' },
  );
  return { sns, faults };
}
