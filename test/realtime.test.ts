import path from 'node:path';
import { ListSubscriptionsByTopicCommand } from '@aws-sdk/client-sns';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { removeOrphanedRealtimeQueues } from '../api/realtime/orphan-cleanup.ts';
import { createRealtimeQueue } from '../api/realtime/realtime-queue.ts';
import { EventPublisher, makeEvent, parseEvent, type ReelayEvent } from '../core/events.ts';
import { newVideoId } from '../core/ids.ts';
import { silentLogger } from '../core/logger.ts';
import { startApiInstance, type ApiInstance } from './support/api-instance.ts';
import { typesInPublishOrder } from './support/event-order.ts';
import { SseClient, type SseEvent } from '../testkit/sse-client.ts';
import { startTestStack, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';
import { timeScale } from './support/test-emulator.ts';

/**
 * The realtime gateway with two API instances (A: the stack's, B: a second
 * one) against one emulator, as behind a load balancer: each instance owns a
 * queue subscribed to both topics and serves `GET /v1/events` from it.
 */
const samples = path.resolve(import.meta.dirname, '../samples');
let stack: TestStack;
let b: ApiInstance;
let publisher: EventPublisher;
const clients: SseClient[] = [];

beforeAll(async () => {
  stack = await startTestStack({ env: { REELAY_SSE_HEARTBEAT_SECONDS: '1', REELAY_EVENT_BUFFER_SIZE: '100' } });
  b = await startApiInstance(stack);
  publisher = new EventPublisher(stack.clients.sns, stack.resources);
});
// Each test's streams end with it, so `--repeats` (the parity run's 10 in a row) stays under the stream limit.
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  const hub = b?.features.deps.realtime.hub;
  if (hub && !hub.isClosed) await waitFor('B to drop the closed streams', () => (hub.connections === 0 ? true : undefined), 5000);
});
afterAll(async () => {
  await b?.stop();
  await stack?.stop();
});

async function connect(base: string, query = '', headers: Record<string, string> = {}): Promise<SseClient> {
  const client = await SseClient.connect(`${base}/v1/events${query}`, { headers });
  clients.push(client);
  return client;
}

const processing = (videoId: string, attempt: number) =>
  makeEvent(
    'video.processing',
    { videoId, priority: 'normal', attempt },
    { id: `video.processing:${videoId}:${attempt}`, source: '/test', subject: videoId, tenant: 'default' },
  );
const liveStarted = (channelId: string, sessionId: string) =>
  makeEvent(
    'live.started',
    { channelId, sessionId },
    { id: `live.started:${channelId}:${sessionId}`, source: '/test', subject: channelId, tenant: 'default' },
  );

const byId = (id: string) => (event: SseEvent) => event.id === id;
const payload = (event: SseEvent): ReelayEvent => parseEvent(JSON.parse(event.data));

describe('GET /v1/events across API instances', () => {
  it('a client on instance B sees the video events of a job uploaded through instance A', async () => {
    const onB = await connect(b.baseUrl);
    const onA = await connect(stack.baseUrl);
    const id = await upload(stack.baseUrl, path.join(samples, 'landscape-720p-audio.mp4'), { multipart: { filename: 'clip.mp4' } });

    const ready = await onB.waitFor('video.ready on B', byId(`video.ready:${id}`), 30_000 * timeScale);
    expect(ready.event).toBe('video.ready');
    expect(payload(ready)).toMatchObject({ type: 'video.ready', data: { videoId: id, outputs: { '720p': { width: 1280 } } } });
    // video.progress may come between processing and ready (at most every 2 s of transcoding).
    const forVideo = typesInPublishOrder(onB.events.map(payload).filter((e) => e.subject === id && e.type !== 'video.progress'));
    expect(forVideo).toEqual(['video.queued', 'video.processing', 'video.playable', 'video.ready']);
    await onA.waitFor('video.ready on A', byId(`video.ready:${id}`));
    expect((await waitForFinalStatus(stack.baseUrl, id)).status).toBe('ready');
  });

  it('filters by videoId, channelId and type', async () => {
    const [v1, v2] = [newVideoId(), newVideoId()];
    const session = newVideoId(); // new event ids on every run: the hub drops an id it has
    const byVideo = await connect(b.baseUrl, `?videoId=${v1}`);
    const byChannel = await connect(b.baseUrl, '?channelId=chan-x');
    const byType = await connect(b.baseUrl, '?type=live.started');
    const everything = await connect(b.baseUrl);
    const sent = [
      processing(v2, 1),
      processing(v1, 1),
      liveStarted('chan-y', session),
      liveStarted('chan-x', session),
      processing(v1, 2),
      processing(v2, 2),
    ];
    for (const event of sent) await publisher.publish(event);

    await everything.waitFor('the last event', byId(sent.at(-1)!.id));
    await byVideo.waitFor('both v1 attempts', () => byVideo.events.length >= 2);
    await byChannel.waitFor('chan-x', byId(liveStarted('chan-x', session).id));
    await byType.waitFor('both live.started', () => byType.events.length >= 2);
    // Sorted: SNS → SQS does not keep the publish order (LocalStack reorders), the filters are what is checked.
    const ids = (client: SseClient) => client.events.map((e) => e.id).sort();
    expect(ids(byVideo)).toEqual([processing(v1, 1).id, processing(v1, 2).id].sort());
    expect(ids(byChannel)).toEqual([liveStarted('chan-x', session).id]);
    expect(ids(byType)).toEqual([liveStarted('chan-y', session).id, liveStarted('chan-x', session).id].sort());

    for (const query of ['?videoId=nope', '?channelId=bad%20id', '?type=video.exploded']) {
      const res = await fetch(`${b.baseUrl}/v1/events${query}`);
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  it('resumes after Last-Event-ID by publish time (whatever order SNS → SQS delivered in), and replays the whole buffer for an id it does not have', async () => {
    const video = newVideoId();
    const attempts = (...ns: number[]) => new Set(ns.map((n) => processing(video, n).id));
    // The set of ids received, and no id twice (the order is SNS → SQS's, which does not keep it).
    const received = (client: SseClient) => {
      const ids = client.events.map((e) => e.id);
      expect(ids.length, 'an event replayed twice in one stream').toBe(new Set(ids).size);
      return new Set(ids);
    };
    const first = await connect(b.baseUrl, `?videoId=${video}`);
    for (const attempt of [1, 2]) await publisher.publish(processing(video, attempt));
    await first.waitFor('attempt 2', byId(processing(video, 2).id));
    await first.close();

    for (const attempt of [3, 4]) await publisher.publish(processing(video, attempt));
    await waitFor('B to buffer attempts 1-4', async () => {
      const body = (await (await fetch(`${b.baseUrl}/v1/notifications?videoId=${video}`)).json()) as { items: ReelayEvent[] };
      return body.items.filter((e) => e.subject === video).length === 4 || undefined;
    });

    // Everything published from RESUME_MARGIN_MS before the last-seen event on, that one excepted:
    // all were published within the margin, so attempt 1 comes again too (the client drops it by id).
    const resumed = await connect(b.baseUrl, `?videoId=${video}`, { 'last-event-id': processing(video, 2).id });
    await resumed.waitFor('the replay', () => resumed.events.length >= 3);
    expect(received(resumed)).toEqual(attempts(1, 3, 4));

    // The query form, for clients that cannot set headers.
    const byQuery = await connect(b.baseUrl, `?videoId=${video}&lastEventId=${encodeURIComponent(processing(video, 3).id)}`);
    await byQuery.waitFor('the replay', () => byQuery.events.length >= 3);
    expect(received(byQuery)).toEqual(attempts(1, 2, 4));

    const unknown = await connect(b.baseUrl, `?videoId=${video}`, { 'last-event-id': 'video.processing:gone:1' });
    await unknown.waitFor('the replay', () => unknown.events.length >= 4);
    expect(received(unknown)).toEqual(attempts(1, 2, 3, 4));
    expect(unknown.comments.some((c) => c.includes('no longer buffered'))).toBe(true);
  });

  it('sends heartbeat comments on an idle stream and forgets a client that disconnects', async () => {
    const hub = b.features.deps.realtime.hub;
    const before = hub.connections;
    const idle = await connect(b.baseUrl, `?videoId=${newVideoId()}`);
    await waitFor('a heartbeat', () => (idle.comments.includes('heartbeat') ? true : undefined), 5000);
    expect(hub.connections).toBe(before + 1);
    await idle.close();
    await waitFor('the connection to be dropped', () => (hub.connections === before ? true : undefined), 5000);
  });
});

describe('realtime queues', () => {
  const queueNames = async () =>
    (
      (await stack.clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: stack.resources.names.realtimeQueuePrefix }))).QueueUrls ?? []
    ).map((u) => u.slice(u.lastIndexOf('/') + 1));
  const subscribedArns = async () => {
    const arns: string[] = [];
    for (const TopicArn of [stack.resources.videoTopicArn, stack.resources.liveTopicArn]) {
      const { Subscriptions = [] } = await stack.clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
      arns.push(...Subscriptions.map((s) => s.Endpoint!));
    }
    return arns;
  };

  it('removes an orphaned queue (stale heartbeat) and its subscriptions, and keeps live ones', async () => {
    const topicArns = [stack.resources.videoTopicArn, stack.resources.liveTopicArn];
    const orphanName = `${stack.resources.names.realtimeQueuePrefix}deadbeef`;
    const orphan = await createRealtimeQueue(stack.clients, { name: orphanName, topicArns, now: new Date(Date.now() - 60 * 60_000) });
    expect(await queueNames()).toContain(orphanName);
    expect((await subscribedArns()).filter((arn) => arn === orphan.arn)).toHaveLength(2);

    const removed = await removeOrphanedRealtimeQueues(stack.clients, {
      namePrefix: stack.resources.names.realtimeQueuePrefix,
      topicArns,
      orphanAfterMs: 15 * 60_000,
      logger: silentLogger(),
    });
    expect(removed).toEqual([orphanName]);
    const names = await queueNames();
    expect(names).not.toContain(orphanName);
    expect(names).toContain(b.features.gateway.queue.name);
    expect(names).toHaveLength(2);
    expect(await subscribedArns()).not.toContain(orphan.arn);
  });

  it('an instance that stops ends its streams and removes its own queue and subscriptions', async () => {
    const queue = b.features.gateway.queue;
    expect(await queueNames()).toContain(queue.name);
    const open = await connect(b.baseUrl);
    const started = Date.now();
    await b.stop();
    expect(Date.now() - started).toBeLessThan(3000);
    await open.waitForEnd();
    expect(await queueNames()).not.toContain(queue.name);
    expect(await subscribedArns()).not.toContain(queue.arn);
  });
});
