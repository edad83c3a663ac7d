import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createAwsClients, type AwsClients } from '../../core/aws.ts';
import type { Config } from '../../core/config/index.ts';

export interface FaultCounter {
  remaining: number;
  injected: number;
}

/**
 * Real clients to the emulator, one of which fails chosen calls: the next
 * `remaining` calls that `when` picks throw before reaching the wire (so the
 * SDK's own retries do not see them). The other clients are closed.
 */
function withFaults<K extends 's3' | 'sns' | 'sqs'>(
  aws: Config['aws'],
  service: K,
  when: (command: string, input: Record<string, unknown>) => boolean,
  remaining: number,
  error: { message: string; name: string; status: number },
): { client: AwsClients[K]; faults: FaultCounter } {
  const faults: FaultCounter = { remaining, injected: 0 };
  const clients = createAwsClients(aws);
  for (const other of ['s3', 'sqs', 'sns'] as const) if (other !== service) clients[other].destroy();
  const client = clients[service];
  (client.middlewareStack as AwsClients['s3']['middlewareStack']).add(
    (next, context) => async (args) => {
      if (faults.remaining > 0 && when(context.commandName ?? '', args.input as Record<string, unknown>)) {
        faults.remaining--;
        faults.injected++;
        throw Object.assign(new Error(error.message), { name: error.name, $metadata: { httpStatusCode: error.status } });
      }
      return next(args);
    },
    { step: 'initialize', name: 'reelayFaultInjection' },
  );
  return { client, faults };
}

/** An S3 client whose next `remaining` calls matching `when` fail with a 503. */
export function faultyS3(
  aws: Config['aws'],
  { when, remaining }: { when: (command: string, input: { Key?: string }) => boolean; remaining: number },
): { s3: S3Client; faults: FaultCounter } {
  const { client, faults } = withFaults(aws, 's3', when, remaining, {
    message: 'injected fault: S3 is unavailable',
    name: 'ServiceUnavailable',
    status: 503,
  });
  return { s3: client, faults };
}

/** An SNS client whose next `remaining` publishes whose message matches `when` fail with a 500. */
export function faultySns(
  aws: Config['aws'],
  { when, remaining }: { when: (message: string) => boolean; remaining: number },
): { sns: SNSClient; faults: FaultCounter } {
  const { client, faults } = withFaults(
    aws,
    'sns',
    (command, input) => command === 'PublishCommand' && when(String(input.Message ?? '')),
    remaining,
    { message: 'injected fault: SNS is unavailable', name: 'InternalError', status: 500 },
  );
  return { sns: client, faults };
}

/** An SQS client whose next `remaining` calls matching `when` fail with a 500. */
export function faultySqs(
  aws: Config['aws'],
  { when, remaining }: { when: (command: string, input: { QueueUrl?: string }) => boolean; remaining: number },
): { sqs: SQSClient; faults: FaultCounter } {
  const { client, faults } = withFaults(aws, 'sqs', when, remaining, {
    message: 'injected fault: SQS is unavailable',
    name: 'InternalError',
    status: 500,
  });
  return { sqs: client, faults };
}
