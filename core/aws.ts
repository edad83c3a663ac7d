import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';

export interface AwsClients {
  s3: S3Client;
  sqs: SQSClient;
  sns: SNSClient;
}

/**
 * Builds the three clients. Only entry points call this; business code gets
 * the clients passed in. With a custom endpoint (emulator, LocalStack) S3 uses
 * path-style URLs and checksums only where the API requires them, which every
 * S3-compatible server understands.
 */
export function createAwsClients(aws: Config['aws'], logger?: Logger): AwsClients {
  const common = {
    region: aws.region,
    ...(logger ? { logger: sdkLogger(logger) } : {}),
    ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
    ...(aws.localCredentials ? { credentials: aws.localCredentials } : {}),
  };
  return {
    s3: new S3Client({
      ...common,
      ...(aws.endpoint
        ? { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
        : {}),
    }),
    sqs: new SQSClient(common),
    sns: new SNSClient(common),
  };
}

export function destroyAwsClients(clients: AwsClients): void {
  clients.s3.destroy();
  clients.sqs.destroy();
  clients.sns.destroy();
}

/**
 * Routes the SDK's own warnings into our structured log. lib-storage sends
 * uploads smaller than one part as a PutObject whose length the S3 client
 * cannot see, and the client warns about it; that warning is a false alarm here.
 */
function sdkLogger(logger: Logger) {
  const log = logger.child({ component: 'aws-sdk' });
  return {
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (message: unknown) => {
      if (typeof message === 'string' && message.includes('Stream of unknown length')) log.debug(message);
      else log.warn({ sdk: message }, 'aws sdk warning');
    },
    // A request we aborted ourselves (a consumer stopping its long poll) is not an error.
    error: (message: unknown) => (isAbort(message) ? log.debug('aws sdk request aborted') : log.error({ sdk: message }, 'aws sdk error')),
  };
}

function isAbort(message: unknown): boolean {
  const error = (message as { error?: { name?: string; message?: string } } | undefined)?.error ?? (message as { name?: string; message?: string });
  return /abort/i.test(`${error?.name ?? ''} ${error?.message ?? ''}`);
}
