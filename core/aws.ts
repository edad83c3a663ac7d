import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from './config/index.ts';
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
/** How an S3 client reaches the configured endpoint: for libraries that build their own client (@tus/s3-store). */
export function s3ClientConfig(aws: Config['aws']): S3ClientConfig {
  return {
    region: aws.region,
    ...(aws.endpoint
      ? {
          endpoint: aws.endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : {}),
    ...(aws.localCredentials ? { credentials: aws.localCredentials } : {}),
  };
}

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
      else log.warn({ sdk: summary(message) }, 'aws sdk warning');
    },
    // Failed calls are handled (and logged, where it matters) by the code that made them; many are expected
    // (NoSuchKey for an unknown video, an aborted long poll). Never log the call's input: it may be a whole part.
    error: (message: unknown) => log.debug({ sdk: summary(message), aborted: isAbort(message) }, 'aws sdk call failed'),
  };
}

/** The command and the error of an SDK log entry, without its input or output. */
function summary(message: unknown): unknown {
  if (typeof message !== 'object' || message === null) return message;
  const { commandName, clientName, error } = message as {
    commandName?: string;
    clientName?: string;
    error?: { name?: string; message?: string };
  };
  return { clientName, commandName, error: error ? { name: error.name, message: error.message?.slice(0, 300) } : undefined };
}

function isAbort(message: unknown): boolean {
  const error =
    (message as { error?: { name?: string; message?: string } } | undefined)?.error ?? (message as { name?: string; message?: string });
  return /abort/i.test(`${error?.name ?? ''} ${error?.message ?? ''}`);
}
