import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * Resolves once the queue holds no message at all: none visible, none in
 * flight, none delayed. This is what makes an "exactly one event" check sound:
 * call it only after every process that could publish a duplicate has
 * returned from its publish (or exited). The emulator enqueues an SNS publish
 * into every subscribed queue before Publish returns (fauxqs does it in the
 * same call), and a consumer deletes a message only after handling it, so an
 * empty queue then means every event published has been seen: a duplicate
 * cannot still be on its way. (The counts are exact on the emulator; on AWS
 * they are approximate.)
 */
export async function waitForDrained(sqs: SQSClient, queueUrl: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    const left = Object.values(Attributes).reduce((sum, n) => sum + Number(n), 0);
    if (left === 0) return;
    if (Date.now() > deadline) throw new Error(`queue ${queueUrl} still holds ${left} message(s) after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
