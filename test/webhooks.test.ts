import { createHmac } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventPublisher, parseEvent } from '../core/events.ts';
import { queueUrl } from '../core/resources.ts';
import { silentLogger } from '../core/logger.ts';
import type { DeadLetter } from '../core/webhooks/dead-letters.ts';
import { WebhookStore } from '../core/webhooks/store.ts';
import { SecretBox } from '../core/webhooks/secret-box.ts';
import { WebhookDispatcher } from '../workers/webhooks/dispatcher.ts';
import { startTestStack, waitFor, type TestStack } from './support/stack.ts';
import { WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.ts';

/**
 * Webhooks end to end: registration through the API, the dispatcher role
 * consuming its own queues, deliveries to a real HTTP receiver on 127.0.0.1,
 * retries through the SQS visibility timeout, the DLQ. Events come from the
 * live API (no worker needed).
 */
let stack: TestStack;
let dispatcher: WebhookDispatcher;
let receiver: WebhookReceiver;
let dlqUrl: string;
let deliveriesUrl: string;
let store: WebhookStore;
/** `/fixable` fails until a test "fixes" the receiver. */
let fixed = false;

beforeAll(async () => {
  stack = await startTestStack({
    withWorker: false,
    env: {
      REELAY_WEBHOOK_ALLOW_PRIVATE: 'true',
      REELAY_WEBHOOK_MAX_ATTEMPTS: '3',
      REELAY_WEBHOOK_RETRY_BASE_SECONDS: '1',
      REELAY_WEBHOOK_TIMEOUT_SECONDS: '1',
      // The route's rate limit has its own test (api/webhooks/webhooks-routes.test.ts); here it would only slow tests down.
      REELAY_WEBHOOK_REDELIVER_PER_MINUTE: '0',
    },
  });
  receiver = await new WebhookReceiver()
    .on('/flaky', (nth) => (nth <= 2 ? 503 : 200))
    .on('/down', () => 500)
    .on('/slow-once', (nth) => (nth === 1 ? 'hang' : 204))
    .on('/fixable', () => (fixed ? 204 : 500))
    .on('/always-down', () => 500)
    .on('/dead-a', () => 500)
    .on('/dead-b', () => 500)
    .start();
  const { names } = stack.resources;
  const [events, deliveries, deliveriesDlq] = await Promise.all(
    [names.webhooksQueue, names.webhookDeliveriesQueue, names.webhookDeliveriesDlq].map((name) => queueUrl(stack.clients.sqs, name)),
  );
  dlqUrl = deliveriesDlq!;
  deliveriesUrl = deliveries!;
  store = new WebhookStore(stack.clients.s3, names.mediaBucket, new SecretBox(stack.config.secretsKey));
  dispatcher = new WebhookDispatcher({
    sqs: stack.clients.sqs,
    store,
    queueUrls: { events: events!, deliveries: deliveries!, deliveriesDlq: dlqUrl },
    settings: stack.config.webhooks,
    pollWaitSeconds: 1,
    logger: silentLogger(),
    events: new EventPublisher(stack.clients.sns, stack.resources),
  }).start();
});
afterAll(async () => {
  await dispatcher?.stop();
  await receiver?.stop();
  await stack?.stop();
});

interface Registered {
  id: string;
  secret: string;
  url: string;
  events: string[];
}

async function register(path: string, events: string[]): Promise<Registered> {
  const res = await fetch(`${stack.baseUrl}/v1/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${receiver.url}${path}`, events }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Registered;
}

async function goLive(channel: string): Promise<string> {
  const res = await fetch(`${stack.baseUrl}/v1/channels/${channel}/live`, { method: 'POST' });
  expect(res.status).toBe(201);
  const { session } = (await res.json()) as { session: { sessionId: string } };
  return `live.started:${channel}:${session.sessionId}`;
}

/** The signature check a receiver would do, written here from the Standard Webhooks spec, not with reelay's code. */
function verify(request: ReceivedWebhook, secret: string): boolean {
  const id = String(request.headers['webhook-id']);
  const timestamp = String(request.headers['webhook-timestamp']);
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${request.body}`).digest('base64');
  const given = String(request.headers['webhook-signature']).split(' ');
  return given.includes(`v1,${expected}`);
}

/** Deliveries waiting or in hand (including scheduled retries); 0 once every one is done or dead-lettered. */
async function pendingDeliveries(): Promise<number> {
  const { Attributes = {} } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: deliveriesUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

/** A webhook's dead letters as stored (read without taking them). */
async function deadLetters(webhookId: string): Promise<DeadLetter[]> {
  const { ids } = await store.deadLetters.ids(webhookId, 1000);
  return Promise.all(
    ids.map(async (id) => {
      const Key = `webhook-dead-letters/${webhookId}/${id}.json`;
      const res = await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.resources.names.mediaBucket, Key }));
      return JSON.parse(await res.Body!.transformToString()) as DeadLetter;
    }),
  );
}

const forEvent = (path: string, eventId: string) => receiver.requests(path).filter((r) => r.headers['webhook-id'] === eventId);

describe('webhooks', () => {
  it('registers an endpoint, shows its secret once, lists and deletes it', async () => {
    const hook = await register('/listed', ['video.ready', 'video.failed', 'video.ready']);
    expect(hook.id).toMatch(/^wh_[0-9A-Z]{26}$/);
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{40,}={0,2}$/);
    expect(Buffer.from(hook.secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    expect(hook.events).toEqual(['video.ready', 'video.failed']);

    const one = (await (await fetch(`${stack.baseUrl}/v1/webhooks/${hook.id}`)).json()) as Record<string, unknown>;
    expect(one).toMatchObject({ id: hook.id, url: `${receiver.url}/listed`, failureCount: 0 });
    expect(one).not.toHaveProperty('secret');
    const list = (await (await fetch(`${stack.baseUrl}/v1/webhooks`)).json()) as { items: Record<string, unknown>[] };
    expect(list.items.map((w) => w.id)).toContain(hook.id);
    expect(JSON.stringify(list)).not.toContain('whsec_');

    expect((await fetch(`${stack.baseUrl}/v1/webhooks/${hook.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${stack.baseUrl}/v1/webhooks/${hook.id}`)).status).toBe(404);
    expect((await fetch(`${stack.baseUrl}/v1/webhooks/${hook.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${stack.baseUrl}/v1/webhooks/not-an-id`)).status).toBe(404);
  });

  it('refuses bad registrations with problem+json', async () => {
    const post = (body: unknown) =>
      fetch(`${stack.baseUrl}/v1/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const cases: [unknown, RegExp][] = [
      [{ url: 'ftp://example.com/x', events: ['video.ready'] }, /only http and https/],
      [{ url: 'not a url', events: ['video.ready'] }, /not an absolute URL/],
      [{ url: `${receiver.url}/x`, events: [] }, /at least one event type/],
      [{ url: `${receiver.url}/x`, events: ['video.exploded'] }, /events\.0/],
      [{ url: `${receiver.url}/x`, events: ['video.ready'], secret: 'mine' }, /Unrecognized key.*secret/],
      [{ events: ['video.ready'] }, /url/],
    ];
    for (const [body, detail] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as { detail: string }).detail).toMatch(detail);
    }
  });

  it('delivers a matching event, signed per Standard Webhooks; an endpoint for other types gets nothing', async () => {
    const hook = await register('/ok', ['live.started']);
    const other = await register('/other', ['video.failed']);
    const eventId = await goLive('hook-ok');
    const [request] = await waitFor('the delivery', () => (forEvent('/ok', eventId).length > 0 ? forEvent('/ok', eventId) : undefined));
    expect(request!.headers['content-type']).toBe('application/json');
    expect(Math.abs(Number(request!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
    expect(verify(request!, hook.secret)).toBe(true);
    expect(verify(request!, other.secret)).toBe(false);
    const event = parseEvent(JSON.parse(request!.body));
    expect(event).toMatchObject({ id: eventId, type: 'live.started', data: { channelId: 'hook-ok' } });
    await waitFor('every delivery to finish', async () => ((await pendingDeliveries()) === 0 ? true : undefined));
    expect(receiver.requests('/other')).toEqual([]);
    expect(forEvent('/ok', eventId)).toHaveLength(1);
  });

  it('retries with back-off: a receiver that fails twice gets it on the third try, the others only once', async () => {
    const flaky = await register('/flaky', ['live.started']);
    await register('/steady', ['live.started']);
    const eventId = await goLive('hook-flaky');
    await waitFor('the third attempt', () => (forEvent('/flaky', eventId).length >= 3 ? true : undefined));
    const attempts = forEvent('/flaky', eventId);
    expect(attempts.map((a) => a.answered)).toEqual([503, 503, 200]);
    // Back-off from the visibility timeout, full jitter with a 1 s floor: 1 s (cap 1 s), then 1 or 2 s (cap 2 s).
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(900);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(900);
    for (const attempt of attempts) expect(verify(attempt, flaky.secret)).toBe(true);
    expect(forEvent('/steady', eventId)).toHaveLength(1);
    await waitFor('every delivery to finish', async () => ((await pendingDeliveries()) === 0 ? true : undefined));
    expect(forEvent('/flaky', eventId)).toHaveLength(3);
    expect((await (await fetch(`${stack.baseUrl}/v1/webhooks/${flaky.id}`)).json()) as object).toMatchObject({ failureCount: 0 });
  });

  it('a request that times out is retried', async () => {
    await register('/slow-once', ['live.started']);
    const eventId = await goLive('hook-slow');
    await waitFor('the retry after the timeout', () => (forEvent('/slow-once', eventId).length >= 2 ? true : undefined));
    expect(forEvent('/slow-once', eventId).map((a) => a.answered)).toEqual(['hang', 204]);
  });

  it("an endpoint that always fails ends in its webhook's dead letters after the last attempt, with the failure recorded", async () => {
    const down = await register('/down', ['live.started']);
    const eventId = await goLive('hook-down');
    const [dead] = await waitFor(
      'the dead-lettered delivery',
      async () => ((await deadLetters(down.id)).length > 0 ? deadLetters(down.id) : undefined),
      20_000,
    );
    expect(dead).toMatchObject({
      delivery: { webhookId: down.id, event: { id: eventId } },
      attempts: 3,
      reason: 'the endpoint answered HTTP 500',
    });
    expect(forEvent('/down', eventId)).toHaveLength(3);

    const webhook = await waitFor('the recorded failure', async () => {
      const body = (await (await fetch(`${stack.baseUrl}/v1/webhooks/${down.id}`)).json()) as { failureCount: number };
      return body.failureCount > 0 ? body : undefined;
    });
    expect(webhook).toMatchObject({
      failureCount: 1,
      lastFailure: { eventId, eventType: 'live.started', attempts: 3, status: 500, reason: 'the endpoint answered HTTP 500' },
    });
    // Dead-lettered means done: no retry is pending.
    await waitFor('the delivery to leave the queue', async () => ((await pendingDeliveries()) === 0 ? true : undefined), 5000);
    expect(forEvent('/down', eventId)).toHaveLength(3);
  });
});

describe('webhook management (#16)', () => {
  const call = (path: string, init: RequestInit = {}) => fetch(`${stack.baseUrl}/v1/webhooks${path}`, init);
  const json = (method: string, body: unknown): RequestInit => ({
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

  it('PATCH changes url, events and enabled; a disabled webhook gets nothing, enabled again it does', async () => {
    const hook = await register('/patched-a', ['live.ended']);
    const patched = await call(`/${hook.id}`, json('PATCH', { url: `${receiver.url}/patched-b`, events: ['live.started'] }));
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ id: hook.id, url: `${receiver.url}/patched-b`, events: ['live.started'], enabled: true });

    expect((await call(`/${hook.id}`, json('PATCH', { enabled: false }))).status).toBe(200);
    const whileDisabled = await goLive('patch-disabled');
    // Another endpoint for the same event proves the event was fanned out while this one stayed silent.
    const witness = await register('/patch-witness', ['live.started']);
    const seen = await goLive('patch-disabled-2');
    await waitFor('the witness delivery', () => (forEvent('/patch-witness', seen).length > 0 ? true : undefined));
    await waitFor('every delivery to finish', async () => ((await pendingDeliveries()) === 0 ? true : undefined));
    expect(receiver.requests('/patched-b').filter((r) => [whileDisabled, seen].includes(String(r.headers['webhook-id'])))).toEqual([]);
    expect((await (await call(`/${hook.id}`)).json()) as object).toMatchObject({ enabled: false });

    expect((await call(`/${hook.id}`, json('PATCH', { enabled: true }))).status).toBe(200);
    const after = await goLive('patch-enabled');
    await waitFor('the delivery once enabled', () => (forEvent('/patched-b', after).length > 0 ? true : undefined));
    expect(receiver.requests('/patched-a')).toEqual([]);
    await call(`/${witness.id}`, { method: 'DELETE' });

    for (const [body, detail] of [
      [{}, /at least one of url, events, enabled/],
      [{ url: 'ftp://x/y' }, /only http and https/],
      [{ url: 'https://u:p@93.184.215.14/' }, /credentials/],
      [{ secret: 'mine' }, /Unrecognized key/],
      [{ events: ['video.exploded'] }, /events\.0/],
    ] as const) {
      const res = await call(`/${hook.id}`, json('PATCH', body));
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(detail);
    }
    expect((await call('/wh_01ARZ3NDEKTSV4RRFFQ69G5FAV', json('PATCH', { enabled: true }))).status).toBe(404);
  });

  it('POST /:id/test sends a signed webhook.test now and answers how it went', async () => {
    const hook = await register('/tested', ['video.ready']);
    const res = await call(`/${hook.id}/test`, { method: 'POST' });
    expect(res.status).toBe(200);
    const result = (await res.json()) as { delivered: boolean; status: number; eventId: string };
    expect(result).toMatchObject({ delivered: true, status: 204 });
    const [request] = forEvent('/tested', result.eventId);
    expect(verify(request!, hook.secret)).toBe(true);
    expect(JSON.parse(request!.body)).toMatchObject({ type: 'webhook.test', subject: hook.id, data: { webhookId: hook.id } });

    const down = await register('/always-down', ['video.ready']);
    expect(await (await call(`/${down.id}/test`, { method: 'POST' })).json()).toMatchObject({
      delivered: false,
      status: 500,
      reason: 'the endpoint answered HTTP 500',
    });
  });

  it('POST /:id/secret rotates: deliveries carry both signatures during the grace period, only the new one without', async () => {
    const hook = await register('/rotated', ['live.started']);
    const res = await call(`/${hook.id}/secret`, json('POST', { graceSeconds: 3600 }));
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as { secret: string; previousSecretExpiresAt: string };
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(hook.secret);
    expect(Date.parse(rotated.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(3500_000);
    expect(JSON.stringify(await (await call(`/${hook.id}`)).json())).not.toContain('whsec_');

    const during = await goLive('rotate-during');
    const [both] = await waitFor('the delivery', () =>
      forEvent('/rotated', during).length > 0 ? forEvent('/rotated', during) : undefined,
    );
    expect(String(both!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(both!, rotated.secret)).toBe(true);
    expect(verify(both!, hook.secret)).toBe(true);

    const again = (await (await call(`/${hook.id}/secret`, json('POST', { graceSeconds: 0 }))).json()) as { secret: string };
    const after = await goLive('rotate-after');
    const [one] = await waitFor('the delivery', () => (forEvent('/rotated', after).length > 0 ? forEvent('/rotated', after) : undefined));
    expect(String(one!.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verify(one!, again.secret)).toBe(true);
    expect(verify(one!, rotated.secret)).toBe(false);
  });

  it("POST /:id/redeliver moves the webhook's dead-lettered deliveries back, each once", async () => {
    fixed = false;
    const hook = await register('/fixable', ['live.started']);
    const eventId = await goLive('redeliver');
    await waitFor('the last attempt', () => (forEvent('/fixable', eventId).length >= 3 ? true : undefined), 20_000);
    await waitFor('the failure to be recorded', async () => {
      const body = (await (await call(`/${hook.id}`)).json()) as { failureCount: number };
      return body.failureCount > 0 ? true : undefined;
    });
    fixed = true;
    const res = await call(`/${hook.id}/redeliver`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ redelivered: 1, more: false });
    await waitFor('the redelivery', () => (forEvent('/fixable', eventId).some((r) => r.answered === 204) ? true : undefined));
    await waitFor('every delivery to finish', async () => ((await pendingDeliveries()) === 0 ? true : undefined));
    expect(forEvent('/fixable', eventId).map((r) => r.answered)).toEqual([500, 500, 500, 204]);
    // Nothing of it is left to redeliver.
    expect(await (await call(`/${hook.id}/redeliver`, { method: 'POST' })).json()).toMatchObject({ redelivered: 0 });
  });

  it("redelivering one webhook's dead letters never hides another's, and sends each failed delivery once (#23 item 7)", async () => {
    const [a, b] = [await register('/dead-a', ['live.started']), await register('/dead-b', ['live.started'])];
    const eventIds = [await goLive('dead-1'), await goLive('dead-2')];
    const deadFor = async (hook: Registered, n: number) =>
      waitFor(`${n} dead letters of ${hook.url}`, async () => ((await deadLetters(hook.id)).length >= n ? true : undefined), 30_000);
    await Promise.all([deadFor(a, 2), deadFor(b, 2)]);

    // The old scan hid every other webhook's dead letters for 60 s: B's call right after A's found nothing.
    expect(await (await call(`/${a.id}/redeliver`, { method: 'POST' })).json()).toEqual({ redelivered: 2, more: false });
    expect(await (await call(`/${b.id}/redeliver`, { method: 'POST' })).json()).toEqual({ redelivered: 2, more: false });
    expect(await deadLetters(b.id)).toEqual([]);

    // Still failing: each comes back to its webhook's dead letters once more, under its own event id, never twice.
    await Promise.all([deadFor(a, 2), deadFor(b, 2)]);
    await waitFor('every delivery to finish', async () => ((await pendingDeliveries()) === 0 ? true : undefined), 20_000);
    for (const hook of [a, b]) {
      expect((await deadLetters(hook.id)).map((d) => d.delivery.event.id).sort()).toEqual([...eventIds].sort());
      for (const eventId of eventIds) expect(forEvent(new URL(hook.url).pathname, eventId)).toHaveLength(6);
    }
    expect(await (await call(`/${a.id}/redeliver`, { method: 'POST' })).json()).toEqual({ redelivered: 2, more: false });

    // Deleting a webhook deletes its dead letters.
    expect((await call(`/${b.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await deadLetters(b.id)).toEqual([]);
  });

  it('a webhook failing for REELAY_WEBHOOK_DISABLE_AFTER_DAYS is disabled, with a webhook.disabled event', async () => {
    const hook = await register('/always-down', ['live.started']);
    const watcher = await register('/watcher', ['webhook.disabled']);
    // Its failures began six days ago (the default limit is five): the next dead-lettered delivery disables it.
    const store = new WebhookStore(stack.clients.s3, stack.resources.names.mediaBucket, new SecretBox(stack.config.secretsKey));
    await store.update(hook.id, (w) => ({ ...w, failingSince: new Date(Date.now() - 6 * 86_400_000).toISOString() }));
    await goLive('auto-disable');
    const disabled = await waitFor(
      'the webhook to be disabled',
      async () => {
        const body = (await (await call(`/${hook.id}`)).json()) as { enabled: boolean; disabledReason?: string };
        return body.enabled === false ? body : undefined;
      },
      20_000,
    );
    expect(disabled.disabledReason).toMatch(/^every delivery since .* failed \(6 days; the last: the endpoint answered HTTP 500\)/);
    const event = await waitFor('webhook.disabled at the notifier', () =>
      stack.notifier.recent.find((e) => e.type === 'webhook.disabled' && e.subject === hook.id),
    );
    expect(event.data).toMatchObject({ webhookId: hook.id, url: `${receiver.url}/always-down` });
    const [toWatcher] = await waitFor('webhook.disabled delivered to the watcher', () =>
      receiver.requests('/watcher').length > 0 ? receiver.requests('/watcher') : undefined,
    );
    expect(verify(toWatcher!, watcher.secret)).toBe(true);
    expect(JSON.parse(toWatcher!.body)).toMatchObject({ type: 'webhook.disabled', data: { webhookId: hook.id } });
    // Enabled again: the run of failures is forgotten.
    expect(await (await call(`/${hook.id}`, json('PATCH', { enabled: true }))).json()).not.toHaveProperty('failingSince');
    expect((await call(`/${hook.id}`, { method: 'DELETE' })).status).toBe(204);
  });
});
