import type { SQSClient } from '@aws-sdk/client-sqs';
import { createAwsClients } from '../../core/aws.ts';
import type { Config } from '../../core/config/index.ts';

/** One call an SQS client made. */
export interface SqsCall {
  /** e.g. `ReceiveMessageCommand`. */
  command: string;
  queueUrl: string | undefined;
  /** A receive's long-poll wait, seconds. */
  waitSeconds: number | undefined;
  /** Set when the answer came back (or the call failed). */
  ended: boolean;
  /** How many messages a receive returned. */
  messages: number | undefined;
}

/**
 * A real SQS client to the emulator that records every call it sends, so a test can wait for a state of the
 * code under test ("its long poll is in flight", "the low tier's poll came back empty") instead of sleeping
 * for a time that usually covers it. The call is recorded as it is handed to the HTTP layer.
 */
export function recordingSqs(aws: Config['aws']): { sqs: SQSClient; calls: SqsCall[] } {
  const clients = createAwsClients(aws);
  clients.s3.destroy();
  clients.sns.destroy();
  const calls: SqsCall[] = [];
  clients.sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { QueueUrl?: string; WaitTimeSeconds?: number };
      const call: SqsCall = {
        command: context.commandName ?? '',
        queueUrl: input.QueueUrl,
        waitSeconds: input.WaitTimeSeconds,
        ended: false,
        messages: undefined,
      };
      calls.push(call);
      try {
        const result = await next(args);
        call.messages = (result.output as { Messages?: unknown[] }).Messages?.length ?? 0;
        return result;
      } finally {
        call.ended = true;
      }
    },
    { step: 'finalizeRequest', name: 'reelayRecordCalls', priority: 'low' },
  );
  return { sqs: clients.sqs, calls };
}
