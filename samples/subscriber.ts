/**
 * A third-party subscriber to reelay's video events, in its smallest useful form.
 *
 *   node samples/subscriber.ts my-app video.ready,video.failed
 *
 * The first argument names the subscriber: it gets its own queue, `<prefix>-subscriber-<name>` (with a
 * `-dlq`), created on the first run and reused after, subscribed to `<prefix>-video-events` with an SNS
 * filter policy on the event type (leave out the second argument to get every video event). Events
 * published while it is stopped wait in its queue. It talks to whatever AWS_ENDPOINT_URL points at
 * (`npm start`'s emulator on :4566, LocalStack) or to AWS; REELAY_PREFIX picks the deployment.
 * The filter policy is set when the subscription is created: to change it, use a new name.
 * Each event is printed as one line on stdout (logs go to stderr); Ctrl-C stops it.
 */
import { pino } from 'pino';
import { createAwsClients, destroyAwsClients } from '../core/aws.ts';
import { loadConfigOrExit } from '../core/config/index.ts';
import { EVENT_TYPES, eventFromSqsBody } from '../core/events.ts';
import { serializeError } from '../core/logger.ts';
import { resourceNames, topicArn } from '../core/resources.ts';
import { ensureSubscriberQueue } from '../infra/provision.ts';
import { QueueConsumer } from '../core/queue-consumer.ts';

const VIDEO_EVENT_TYPES: readonly string[] = EVENT_TYPES.filter((type) => type.startsWith('video.'));

const [name = '', typeList] = process.argv.slice(2);
const eventTypes = typeList
  ?.split(',')
  .map((type) => type.trim())
  .filter(Boolean);
const unknown = (eventTypes ?? []).filter((type) => !VIDEO_EVENT_TYPES.includes(type));
if (!/^[a-z0-9][a-z0-9-]{0,23}$/.test(name) || unknown.length > 0) {
  process.stderr.write(
    'usage: node samples/subscriber.ts <name> [type,type,...]\n' +
      '  name:  lowercase letters, digits and dashes, at most 24 characters\n' +
      `  types: any of ${VIDEO_EVENT_TYPES.join(', ')} (default: all of them)\n` +
      (unknown.length > 0 ? `unknown event type: ${unknown.join(', ')}\n` : ''),
  );
  process.exit(2);
}

const config = loadConfigOrExit('subscriber');

// Logs go to stderr so that stdout carries nothing but events.
const logger = pino(
  { base: { role: `subscriber:${name}` }, level: config.log.level, serializers: { err: serializeError } },
  pino.destination(2),
);
const clients = createAwsClients(config.aws);
const queue = await ensureSubscriberQueue(clients, {
  name: `${config.prefix}-subscriber-${name}`,
  topicArns: [await topicArn(clients.sns, resourceNames(config.prefix).videoTopic)],
  ...(eventTypes && eventTypes.length > 0 ? { eventTypes } : {}),
});
process.stderr.write(`listening on ${queue.url} for ${eventTypes?.join(', ') || 'every video event'}\n`);

// Delivery is at least once: the same event (same id) can arrive twice.
const seen = new Set<string>();
const consumer = new QueueConsumer({
  sqs: clients.sqs,
  queueUrl: queue.url,
  logger,
  // Throwing (a message that is not a reelay event) leaves the message for redelivery, then the DLQ.
  handle: async (message) => {
    const event = eventFromSqsBody(message.Body ?? '');
    if (seen.has(event.id)) return;
    seen.add(event.id);
    console.log(`${event.time} ${event.type} ${event.subject} ${JSON.stringify(event.data)}`);
  },
}).start();

async function stop(): Promise<void> {
  await consumer.stop();
  destroyAwsClients(clients);
  process.exit(0);
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
