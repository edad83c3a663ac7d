/**
 * Event latency, end to end through the real emulator:
 *
 *   node bench/event-latency.ts [--events 300] [--gap-ms 10]
 *
 * The embedded emulator runs as its own process (bench/lib/emulator.ts, a
 * fresh data dir); this process provisions a unique prefix, runs one API
 * instance (api/start-api.ts) with its realtime gateway and one SSE client on `GET /v1/events`,
 * and one subscriber (its own queue, long-polling like the notifier). It then
 * publishes `--events` events one at a time through the real EventPublisher
 * and times, from just before each SNS Publish call:
 *   - subscriber: until the subscriber's handler has it (SNS → SQS → consumer);
 *   - SSE: until the SSE client has parsed it (SNS → SQS → API → SSE → client).
 * Closed loop: the next event is published once both got the previous one (or
 * after 5 s, counted as lost), plus `--gap-ms`. Markdown on stdout, progress
 * on stderr. `runEventLatency` and `renderEventLatency` are what `npm run bench`
 * needs to run it as one of its sections.
 */
import { cpus } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startApi } from '../api/start-api.ts';
import { loadConfig } from '../core/config/index.ts';
import { EventPublisher, eventFromSqsBody, makeEvent } from '../core/events.ts';
import { newVideoId } from '../core/ids.ts';
import { silentLogger } from '../core/logger.ts';
import { resolveResources } from '../core/resources.ts';
import { ensureSubscriberQueue } from '../infra/provision.ts';
import { SseClient } from '../testkit/sse-client.ts';
import { QueueConsumer } from '../core/queue-consumer.ts';
import { withCleanup } from './lib/cleanup.ts';
import { startEmulatorProcess } from './lib/emulator.ts';
import { provisionedClients, uniquePrefix } from './lib/reelay-setup.ts';

const LOST_AFTER_MS = 5000;

const progress = (message: string) => process.stderr.write(`event-latency: ${message}\n`);

export interface LatencySummary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface EventLatencyResult {
  events: number;
  gapMs: number;
  seconds: number;
  /** Events not received by both within 5 s. */
  lost: number;
  /** ms, from just before the SNS Publish call. */
  publishCall: LatencySummary;
  toSubscriber: LatencySummary;
  toSse: LatencySummary;
}

async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function summarise(values: number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  const round = (n: number) => Math.round(n * 10) / 10;
  return { n: sorted.length, p50: round(at(50)), p90: round(at(90)), p99: round(at(99)), max: round(sorted.at(-1) ?? Number.NaN) };
}

export async function runEventLatency({ events: count, gapMs }: { events: number; gapMs: number }): Promise<EventLatencyResult> {
  return withCleanup(async (cleanup) => {
    const { endpoint } = await startEmulatorProcess(cleanup);
    const prefix = uniquePrefix('ev');
    const config = loadConfig({ AWS_ENDPOINT_URL: endpoint, REELAY_PREFIX: prefix, REELAY_POLL_WAIT_SECONDS: '20', PORT: '0' });
    const logger = silentLogger();
    const clients = await provisionedClients(cleanup, config, logger);
    const resources = await resolveResources(clients, prefix);
    const publisher = new EventPublisher(clients.sns, resources);

    // The API instance with its realtime gateway, and one SSE client on it.
    const api = await startApi({ config, clients, resources, logger, listen: { host: '127.0.0.1', port: 0 } });
    cleanup.defer('stop the API', () => api.stop());
    const sseAt = new Map<string, number>();
    const sse = await SseClient.connect(`${api.url}/v1/events?type=video.processing`);
    sse.onEvent = (event) => {
      if (event.id) sseAt.set(event.id, performance.now());
    };
    cleanup.defer('close the SSE client', () => sse.close());

    // A subscriber with its own queue, long-polling like the notifier.
    const subscriberAt = new Map<string, number>();
    const queue = await ensureSubscriberQueue(clients, {
      name: `${prefix}-bench-subscriber`,
      topicArns: [resources.videoTopicArn, resources.liveTopicArn],
      eventTypes: ['video.processing'],
    });
    const consumer = new QueueConsumer({
      sqs: clients.sqs,
      queueUrl: queue.url,
      waitSeconds: 20,
      logger,
      handle: async (message) => {
        subscriberAt.set(eventFromSqsBody(message.Body ?? '').id, performance.now());
      },
    }).start();
    cleanup.defer('stop the subscriber', () => consumer.stop());

    const videoId = newVideoId();
    const event = (attempt: number) =>
      makeEvent(
        'video.processing',
        { videoId, priority: 'normal', attempt },
        { id: `video.processing:${videoId}:${attempt}`, source: '/bench', subject: videoId, tenant: 'default' },
      );
    // Warm-up: connections, the first long polls.
    for (let i = 1; i <= 5; i++) {
      const warm = event(100_000 + i);
      await publisher.publish(warm);
      await waitUntil('warm-up', () => sseAt.has(warm.id) && subscriberAt.has(warm.id), 10_000);
    }

    progress(`publishing ${count} events (${cpus().length} cores, emulator ${endpoint})`);
    const publishMs: number[] = [];
    const toSubscriber: number[] = [];
    const toSse: number[] = [];
    let lost = 0;
    const started = performance.now();
    for (let attempt = 1; attempt <= count; attempt++) {
      const e = event(attempt);
      const t0 = performance.now();
      await publisher.publish(e);
      publishMs.push(performance.now() - t0);
      try {
        await waitUntil(e.id, () => sseAt.has(e.id) && subscriberAt.has(e.id), LOST_AFTER_MS);
      } catch {
        lost++;
      }
      if (subscriberAt.has(e.id)) toSubscriber.push(subscriberAt.get(e.id)! - t0);
      if (sseAt.has(e.id)) toSse.push(sseAt.get(e.id)! - t0);
      if (attempt % 100 === 0) progress(`${attempt}/${count}`);
      if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    }
    return {
      events: count,
      gapMs,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      lost,
      publishCall: summarise(publishMs),
      toSubscriber: summarise(toSubscriber),
      toSse: summarise(toSse),
    };
  });
}

export function renderEventLatency(result: EventLatencyResult): string {
  const row = (name: string, s: LatencySummary) =>
    `| ${name} | ${s.n} | ${s.p50.toFixed(1)} | ${s.p90.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.max.toFixed(1)} |`;
  return [
    `## Event latency (${result.events} events, ${result.seconds} s, ${result.lost} not received within ${LOST_AFTER_MS} ms)`,
    '',
    'From just before the SNS Publish call, ms; fauxqs in its own process, API + subscriber + SSE client in this one.',
    '',
    '| path | n | p50 | p90 | p99 | max |',
    '|---|---|---|---|---|---|',
    row('SNS Publish call returns', result.publishCall),
    row('subscriber queue consumer (SNS → SQS → handler)', result.toSubscriber),
    row('SSE client (SNS → SQS → API → SSE)', result.toSse),
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values: args } = parseArgs({
    options: { events: { type: 'string', default: '300' }, 'gap-ms': { type: 'string', default: '10' } },
  });
  const events = Number(args.events);
  const gapMs = Number(args['gap-ms']);
  if (!Number.isInteger(events) || events < 1 || !Number.isInteger(gapMs) || gapMs < 0) {
    process.stderr.write('usage: node bench/event-latency.ts [--events N] [--gap-ms N]\n');
    process.exit(2);
  }
  process.stdout.write(renderEventLatency(await runEventLatency({ events, gapMs })));
}
