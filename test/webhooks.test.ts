import { createHmac } from 'node:crypto';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvent } from '../core/events.ts';
import { queueUrl } from '../core/resources.ts';
import { silentLogger } from '../core/logger.ts';
import { WebhookStore } from '../core/webhook-store.ts';
import { SecretBox } from '../core/secret-box.ts';
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

beforeAll(async () => {
  stack = await startTestStack({
    withWorker: false,
    env: {
      REELAY_WEBHOOK_ALLOW_PRIVATE: 'true',
      REELAY_WEBHOOK_MAX_ATTEMPTS: '3',
      REELAY_WEBHOOK_RETRY_BASE_SECONDS: '1',
      REELAY_WEBHOOK_TIMEOUT_SECONDS: '1',
    },
  });
  receiver = await new WebhookReceiver()
    .on('/flaky', (nth) => (nth <= 2 ? 503 : 200))
    .on('/down', () => 500)
    .on('/slow-once', (nth) => (nth === 1 ? 'hang' : 204))
    .start();
  const { names } = stack.resources;
  const [events, deliveries, deliveriesDlq] = await Promise.all(
    [names.webhooksQueue, names.webhookDeliveriesQueue, names.webhookDeliveriesDlq].map((name) => queueUrl(stack.clients.sqs, name)),
  );
  dlqUrl = deliveriesDlq!;
  deliveriesUrl = deliveries!;
  dispatcher = new WebhookDispatcher({
    sqs: stack.clients.sqs,
    store: new WebhookStore(stack.clients.s3, names.mediaBucket, new SecretBox(stack.config.secretsKey)),
    queueUrls: { events: events!, deliveries: deliveries!, deliveriesDlq: dlqUrl },
    settings: stack.config.webhooks,
    pollWaitSeconds: 1,
    logger: silentLogger(),
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
    new GetQueueAttributesCommand({ QueueUrl: deliveriesUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
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
      fetch(`${stack.baseUrl}/v1/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
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
    // Back-off from the visibility timeout: about 1 s, then about 2 s.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(900);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(1900);
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

  it('an endpoint that always fails ends in the DLQ after the last attempt, with the failure recorded', async () => {
    const down = await register('/down', ['live.started']);
    const eventId = await goLive('hook-down');
    const dead = await waitFor(
      'the dead-lettered delivery',
      async () => {
        const { Messages = [] } = await stack.clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
        );
        return Messages.find((m) => m.MessageAttributes?.webhookId?.StringValue === down.id);
      },
      20_000,
    );
    expect(dead.MessageAttributes).toMatchObject({
      eventId: { StringValue: eventId },
      attempts: { StringValue: '3' },
      reason: { StringValue: 'the endpoint answered HTTP 500' },
    });
    expect(JSON.parse(dead.Body!)).toMatchObject({ webhookId: down.id, event: { id: eventId } });
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
