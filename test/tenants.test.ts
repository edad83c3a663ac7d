import { SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventFromSqsBody, type ReelayEvent } from '../core/events.ts';
import { silentLogger } from '../core/logger.ts';
import { queueUrl } from '../core/resources.ts';
import { WebhookStore } from '../core/webhooks/store.ts';
import { SecretBox } from '../core/webhooks/secret-box.ts';
import { WebhookDispatcher } from '../workers/webhooks/dispatcher.ts';
import { SseClient } from '../testkit/sse-client.ts';
import { startTestStack, waitFor, type TestStack } from './support/stack.ts';
import { postVideo, upload } from './support/upload.ts';
import { WebhookReceiver } from './support/webhook-receiver.ts';

/**
 * Two tenants on one reelay (real emulator, API, worker, webhook dispatcher):
 * every route, stream and delivery shows each only its own data. Each
 * "does not see" check is paired with a "does see" of the same kind that
 * happened later on the same path, so it cannot pass merely by being early.
 */
const ACME = `acme:${'a'.repeat(24)}`;
const GLOBEX = `globex:${'g'.repeat(24)}`;
const keyOf = (entry: string) => entry.slice(entry.indexOf(':') + 1);
const CLIP = new URL('../samples/small-480p.mkv', import.meta.url);

let stack: TestStack;
let dispatcher: WebhookDispatcher;
let receiver: WebhookReceiver;

type Tenant = 'acme' | 'globex';
const keys: Record<Tenant, string> = { acme: keyOf(ACME), globex: keyOf(GLOBEX) };

function api(tenant: Tenant | undefined, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (tenant) headers.set('authorization', `Bearer ${keys[tenant]}`);
  return fetch(`${stack.baseUrl}${path}`, { ...init, headers, redirect: 'manual' });
}

const clipAs = (tenant: Tenant) => ({ contentType: 'video/x-matroska', headers: { authorization: `Bearer ${keys[tenant]}` } });
const uploadAs = async (tenant: Tenant) => ({ id: await upload(stack.baseUrl, CLIP, clipAs(tenant)) });

async function waitReady(tenant: Tenant, id: string): Promise<void> {
  await waitFor(
    `video ${id} ready`,
    async () => {
      const body = (await (await api(tenant, `/v1/videos/${id}`)).json()) as { status: string };
      if (body.status === 'failed') throw new Error(`video ${id} failed`);
      return body.status === 'ready' || undefined;
    },
    60_000,
  );
}

beforeAll(async () => {
  stack = await startTestStack({ env: { REELAY_API_KEYS: `${ACME},${GLOBEX}`, REELAY_WEBHOOK_ALLOW_PRIVATE: 'true' } });
  receiver = await new WebhookReceiver()
    .on('/acme', () => 204)
    .on('/globex', () => 204)
    .start();
  const { names } = stack.resources;
  const [events, deliveries, deliveriesDlq] = await Promise.all(
    [names.webhooksQueue, names.webhookDeliveriesQueue, names.webhookDeliveriesDlq].map((name) => queueUrl(stack.clients.sqs, name)),
  );
  dispatcher = new WebhookDispatcher({
    sqs: stack.clients.sqs,
    store: new WebhookStore(stack.clients.s3, names.mediaBucket, new SecretBox(stack.config.secretsKey)),
    queueUrls: { events: events!, deliveries: deliveries!, deliveriesDlq: deliveriesDlq! },
    settings: stack.config.webhooks,
    pollWaitSeconds: 1,
    logger: silentLogger(),
  }).start();
}, 60_000);

afterAll(async () => {
  await dispatcher?.stop();
  await receiver?.stop();
  await stack?.stop();
});

describe('two tenants', () => {
  it("videos: another tenant's id is a 404 on every video route, and lists hold only the caller's", async () => {
    const acmeVideo = await uploadAs('acme');
    const globexVideo = await uploadAs('globex');
    await waitReady('acme', acmeVideo.id);

    expect((await api('acme', `/v1/videos/${acmeVideo.id}`)).status).toBe(200);
    expect((await api('globex', `/v1/videos/${acmeVideo.id}`)).status).toBe(404);
    expect((await api('acme', `/v1/videos/${acmeVideo.id}/outputs/360p`)).status).toBe(302);
    const hidden = await api('globex', `/v1/videos/${acmeVideo.id}/outputs/360p`);
    expect(hidden.status).toBe(404);
    // Same answer as for an id that never existed: nothing tells globex the video is there.
    const unknown = await api('globex', '/v1/videos/01ARZ3NDEKTSV4RRFFQ69G5FAV/outputs/360p');
    expect(unknown.status).toBe(404);
    expect(((await hidden.json()) as { detail: string }).detail).toBe(`no video with id ${acmeVideo.id}`);

    const list = async (tenant: Tenant) =>
      ((await (await api(tenant, '/v1/videos?limit=100')).json()) as { items: { id: string; tenant: string }[] }).items;
    const acmeList = await list('acme');
    const globexList = await list('globex');
    expect(acmeList.map((v) => v.id)).toContain(acmeVideo.id);
    expect(acmeList.every((v) => v.tenant === 'acme')).toBe(true);
    expect(globexList.map((v) => v.id)).toEqual(expect.arrayContaining([globexVideo.id]));
    expect(globexList.map((v) => v.id)).not.toContain(acmeVideo.id);

    // A cursor is bound to its tenant's index: acme's cursor is not globex's.
    await uploadAs('acme');
    const page = (await (await api('acme', '/v1/videos?limit=1')).json()) as { nextCursor: string };
    expect(page.nextCursor).toBeTruthy();
    expect((await api('acme', `/v1/videos?limit=1&cursor=${page.nextCursor}`)).status).toBe(200);
    expect((await api('globex', `/v1/videos?limit=1&cursor=${page.nextCursor}`)).status).toBe(400);
  }, 90_000);

  it("channels: each tenant has its own namespace; a recording cannot name another tenant's channel", async () => {
    const started = await api('acme', '/v1/channels/main/live', { method: 'POST' });
    expect(started.status).toBe(201);
    // globex's "main" is a different channel: still offline, and it can start its own session.
    const globexView = (await (await api('globex', '/v1/channels/main/live')).json()) as { status: string; sessionCount: number };
    expect(globexView).toMatchObject({ status: 'offline', sessionCount: 0 });
    const res = await postVideo(stack.baseUrl, CLIP, { ...clipAs('globex'), params: { channelId: 'main' } });
    expect(res.status).toBe(400);
    expect((await api('globex', '/v1/channels/main/live', { method: 'DELETE' })).status).toBe(200);
    expect(((await (await api('acme', '/v1/channels/main/live')).json()) as { status: string }).status).toBe('live');
    expect((await api('acme', '/v1/channels/main/live', { method: 'DELETE' })).status).toBe(200);
  });

  it("webhooks: registration, reads and deletes are per tenant; each endpoint gets only its tenant's events", async () => {
    const register = async (tenant: Tenant) => {
      const res = await api(tenant, '/v1/webhooks', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${receiver.url}/${tenant}`, events: ['video.queued'] }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const acmeHook = await register('acme');
    const globexHook = await register('globex');
    expect((await api('globex', `/v1/webhooks/${acmeHook}`)).status).toBe(404);
    expect((await api('globex', `/v1/webhooks/${acmeHook}`, { method: 'DELETE' })).status).toBe(404);
    expect((await api('acme', `/v1/webhooks/${acmeHook}`)).status).toBe(200);
    const globexHooks = ((await (await api('globex', '/v1/webhooks')).json()) as { items: { id: string }[] }).items.map((w) => w.id);
    expect(globexHooks).toEqual([globexHook]);

    const acmeVideo = await uploadAs('acme');
    const globexVideo = await uploadAs('globex');
    // Each endpoint receives its own tenant's event; the other tenant's, queued before, never arrives.
    await waitFor('globex delivery', () => receiver.requests('/globex').find((r) => r.body.includes(globexVideo.id)));
    await waitFor('acme delivery', () => receiver.requests('/acme').find((r) => r.body.includes(acmeVideo.id)));
    expect(receiver.requests('/globex').some((r) => r.body.includes(acmeVideo.id))).toBe(false);
    expect(receiver.requests('/acme').some((r) => r.body.includes(globexVideo.id))).toBe(false);
    expect(receiver.requests('/globex').every((r) => (JSON.parse(r.body) as ReelayEvent).tenant === 'globex')).toBe(true);
    expect((await api('acme', `/v1/webhooks/${acmeHook}`, { method: 'DELETE' })).status).toBe(204);
  }, 60_000);

  it("events and notifications: streams carry only the caller's tenant", async () => {
    const connect = (tenant: Tenant) =>
      SseClient.connect(`${stack.baseUrl}/v1/events`, { headers: { authorization: `Bearer ${keys[tenant]}` } });
    const acmeStream = await connect('acme');
    const globexStream = await connect('globex');
    try {
      const acmeVideo = await uploadAs('acme');
      // Wait until acme's event is in this process's hub before globex's is published: the hub hands events
      // to streams in arrival order, so once globex's stream has its own event it would already hold acme's.
      await acmeStream.waitFor('acme queued', (e) => e.id === `video.queued:${acmeVideo.id}`);
      const globexVideo = await uploadAs('globex');
      await globexStream.waitFor('globex queued', (e) => e.id === `video.queued:${globexVideo.id}`);
      expect(globexStream.events.some((e) => e.data.includes(acmeVideo.id))).toBe(false);
      expect(globexStream.events.every((e) => (JSON.parse(e.data) as ReelayEvent).tenant === 'globex')).toBe(true);
      // Filtering on another tenant's video id shows nothing, rather than its events.
      const filtered = await api('globex', `/v1/notifications?videoId=${acmeVideo.id}`);
      expect(((await filtered.json()) as { items: unknown[] }).items).toEqual([]);
      const notes = ((await (await api('globex', '/v1/notifications?limit=1000')).json()) as { items: ReelayEvent[] }).items;
      expect(notes.map((e) => e.id)).toContain(`video.queued:${globexVideo.id}`);
      expect(notes.every((e) => e.tenant === 'globex')).toBe(true);
      const acmeNotes = ((await (await api('acme', '/v1/notifications?limit=1000')).json()) as { items: ReelayEvent[] }).items;
      expect(acmeNotes.map((e) => e.id)).toContain(`video.queued:${acmeVideo.id}`);
      expect(acmeNotes.some((e) => e.tenant !== 'acme')).toBe(false);
    } finally {
      await acmeStream.close();
      await globexStream.close();
    }
  }, 60_000);

  it('events carry the tenant as an SNS message attribute: a filter policy selects one tenant', async () => {
    const { sqs, sns } = stack.clients;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${stack.resources.names.notifierQueue}-globex-only` }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns.send(
      new SubscribeCommand({
        TopicArn: stack.resources.videoTopicArn,
        Protocol: 'sqs',
        Endpoint: Attributes!.QueueArn!,
        Attributes: { FilterPolicy: JSON.stringify({ tenant: ['globex'] }), RawMessageDelivery: 'true' },
      }),
    );
    const acmeVideo = await uploadAs('acme');
    const globexVideo = await uploadAs('globex');
    const received: ReelayEvent[] = [];
    await waitFor('globex event through the filter', async () => {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      received.push(...Messages.map((m) => eventFromSqsBody(m.Body!)));
      return received.some((e) => e.id === `video.queued:${globexVideo.id}`) || undefined;
    });
    // acme's was published first; SNS evaluates each publish on its own, so it was filtered out, not late.
    expect(received.some((e) => e.data && JSON.stringify(e.data).includes(acmeVideo.id))).toBe(false);
    expect(received.every((e) => e.tenant === 'globex')).toBe(true);
  }, 60_000);

  it('without a key nothing is served', async () => {
    expect((await api(undefined, '/v1/videos')).status).toBe(401);
  });
});
