import { createHmac, randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventPublisher } from '../core/events.ts';
import { createLogger, silentLogger, type Logger } from '../core/logger.ts';
import { queueUrl } from '../core/resources.ts';
import { SecretBox } from '../core/webhooks/secret-box.ts';
import { WebhookStore } from '../core/webhooks/store.ts';
import { WebhookDispatcher } from '../workers/webhooks/dispatcher.ts';
import { startApiInstance, type ApiInstance } from './support/api-instance.ts';
import { startTestStack, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';
import { WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.ts';

/**
 * An existing keyed setup without REELAY_SECRETS_KEY (issue #10: "keeps working
 * unchanged"): the API starts and takes uploads, and only what needs the key
 * says so. Real emulator, API, worker and dispatchers; a second API instance
 * with the key stands for the operator who has set it.
 */
const KEY = 'secrets-key-test-0123456789abcdef';
const auth = { authorization: `Bearer ${KEY}` };
const SECRETS_KEY = randomBytes(32);
const CLIP = new URL('../samples/small-480p.mkv', import.meta.url);

let stack: TestStack;
let keyed: ApiInstance;
let receiver: WebhookReceiver;

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      REELAY_API_KEYS: KEY,
      // Unset: an empty value counts as not given.
      REELAY_SECRETS_KEY: '',
      REELAY_WEBHOOK_ALLOW_PRIVATE: 'true',
      REELAY_WEBHOOK_RETRY_BASE_SECONDS: '1',
    },
  });
  keyed = await startApiInstance({ config: { ...stack.config, secretsKey: SECRETS_KEY }, resources: stack.resources });
  receiver = await new WebhookReceiver().start();
}, 60_000);
afterAll(async () => {
  await receiver?.stop();
  await keyed?.stop();
  await stack?.stop();
});

function registerWebhook(baseUrl: string, path: string): Promise<Response> {
  return fetch(`${baseUrl}/v1/webhooks`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${receiver.url}${path}`, events: ['live.started'] }),
  });
}

async function storedWebhookKeys(): Promise<string[]> {
  const listed = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: stack.resources.names.mediaBucket, Prefix: 'webhooks/' }));
  return (listed.Contents ?? []).map((o) => o.Key!);
}

async function expectNoKeyProblem(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(((await res.json()) as { detail: string }).detail).toMatch(/set REELAY_SECRETS_KEY|same REELAY_SECRETS_KEY/);
}

describe('API keys without REELAY_SECRETS_KEY', () => {
  it('the API starts and takes an upload to ready', async () => {
    expect(stack.config.api.auth.mode).toBe('keys');
    expect(stack.config.secretsKey).toBeUndefined();
    const id = await upload(stack.baseUrl, CLIP, { contentType: 'video/x-matroska', headers: auth });
    expect((await waitForFinalStatus(stack.baseUrl, id, undefined, auth)).status).toBe('ready');
  });

  it('registering a webhook answers 503 problem+json naming REELAY_SECRETS_KEY and stores nothing; with the key it is 201', async () => {
    const refused = await registerWebhook(stack.baseUrl, '/refused');
    await expectNoKeyProblem(refused);
    expect(await storedWebhookKeys()).toEqual([]);

    const created = await registerWebhook(keyed.baseUrl, '/created');
    expect(created.status).toBe(201);
    const { id, secret } = (await created.json()) as { id: string; secret: string };
    expect(secret).toMatch(/^whsec_/);
    const object = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.resources.names.mediaBucket, Key: `webhooks/${id}.json` }),
    );
    expect(JSON.parse(await object.Body!.transformToString()).secret).toMatch(/^enc:v1:/);
    expect((await fetch(`${keyed.baseUrl}/v1/webhooks/${id}`, { method: 'DELETE', headers: auth })).status).toBe(204);
  });

  it('a sealed webhook is listed, shown, changed and deleted without the key; testing and rotating it say the key is missing', async () => {
    const created = await registerWebhook(keyed.baseUrl, '/managed');
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const listed = await fetch(`${stack.baseUrl}/v1/webhooks`, { headers: auth });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: { id: string }[] }).items.map((w) => w.id)).toEqual([id]);
    const shown = await fetch(`${stack.baseUrl}/v1/webhooks/${id}`, { headers: auth });
    expect(shown.status).toBe(200);
    expect(await shown.text()).not.toContain('secret');

    const patched = await fetch(`${stack.baseUrl}/v1/webhooks/${id}`, {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: false }),
    });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { enabled: boolean }).enabled).toBe(false);
    // The sealed secret came through the change untouched: it still opens with the key.
    const withKey = new WebhookStore(stack.clients.s3, stack.resources.names.mediaBucket, new SecretBox(SECRETS_KEY));
    expect((await withKey.get(id))?.secret).toMatch(/^whsec_/);

    await expectNoKeyProblem(await fetch(`${stack.baseUrl}/v1/webhooks/${id}/test`, { method: 'POST', headers: auth }));
    await expectNoKeyProblem(await fetch(`${stack.baseUrl}/v1/webhooks/${id}/secret`, { method: 'POST', headers: auth }));

    expect((await fetch(`${stack.baseUrl}/v1/webhooks/${id}`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect(await storedWebhookKeys()).toEqual([]);
  });
});

describe('the webhooks dispatcher without REELAY_SECRETS_KEY', () => {
  /** A dispatcher on the stack's queues, with `key` (or none), logging to `logger`. */
  async function startDispatcher(key: Buffer | undefined, logger: Logger): Promise<WebhookDispatcher> {
    const { names } = stack.resources;
    const [events, deliveries, deliveriesDlq] = await Promise.all(
      [names.webhooksQueue, names.webhookDeliveriesQueue, names.webhookDeliveriesDlq].map((name) => queueUrl(stack.clients.sqs, name)),
    );
    return new WebhookDispatcher({
      sqs: stack.clients.sqs,
      store: new WebhookStore(stack.clients.s3, names.mediaBucket, new SecretBox(key)),
      queueUrls: { events: events!, deliveries: deliveries!, deliveriesDlq: deliveriesDlq! },
      settings: stack.config.webhooks,
      pollWaitSeconds: 1,
      logger,
      events: new EventPublisher(stack.clients.sns, stack.resources),
    }).start();
  }

  async function goLive(channel: string): Promise<string> {
    const res = await fetch(`${stack.baseUrl}/v1/channels/${channel}/live`, { method: 'POST', headers: auth });
    expect(res.status).toBe(201);
    const { session } = (await res.json()) as { session: { sessionId: string } };
    return `live.started:${channel}:${session.sessionId}`;
  }

  async function dlqDepth(): Promise<number> {
    const url = await queueUrl(stack.clients.sqs, stack.resources.names.webhookDeliveriesDlq);
    const { Attributes = {} } = await stack.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url!, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    return Number(Attributes.ApproximateNumberOfMessages);
  }

  /** The Standard Webhooks check a receiver does, written from the spec. */
  function verify(request: ReceivedWebhook, secret: string): boolean {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    const signed = `${String(request.headers['webhook-id'])}.${String(request.headers['webhook-timestamp'])}.${request.body}`;
    return String(request.headers['webhook-signature'])
      .split(' ')
      .includes(`v1,${createHmac('sha256', key).update(signed).digest('base64')}`);
  }

  it('holds deliveries to a sealed webhook (said once, none lost); a dispatcher with the key delivers them, signed', async () => {
    const created = await registerWebhook(keyed.baseUrl, '/held');
    expect(created.status).toBe(201);
    const { id, secret } = (await created.json()) as { id: string; secret: string };

    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('webhooks', {
      level: 'debug',
      destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    });
    const held = () => lines.filter((l) => l.webhookId === id && /cannot be (signed|opened)/.test(String(l.msg)));
    const keyless = await startDispatcher(undefined, logger);
    let keyedDispatcher: WebhookDispatcher | undefined;
    try {
      const first = await goLive('held-1');
      const second = await goLive('held-2');
      // Each event's delivery held at least once (and the first held again after its 1 s delay).
      await waitFor('both deliveries held, one of them twice', () => {
        const events = held().map((l) => l.eventId);
        return events.includes(first) && events.includes(second) && events.length >= 3 ? true : undefined;
      });
      const errors = lines.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(1);
      expect(String(errors[0]!.msg)).toMatch(/REELAY_SECRETS_KEY is not set.*Give this process the API's REELAY_SECRETS_KEY/);
      expect(receiver.requests('/held')).toEqual([]);
      expect(await dlqDepth()).toBe(0);
      await keyless.stop();

      keyedDispatcher = await startDispatcher(SECRETS_KEY, silentLogger());
      const delivered = await waitFor('both deliveries', () => {
        const requests = receiver.requests('/held');
        const ids = new Set(requests.map((r) => JSON.parse(r.body).id as string));
        return ids.has(first) && ids.has(second) ? requests : undefined;
      });
      for (const request of delivered) expect(verify(request, secret)).toBe(true);
      expect(await dlqDepth()).toBe(0);
    } finally {
      await keyless.stop();
      await keyedDispatcher?.stop();
    }
  });
});
