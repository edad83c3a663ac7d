import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../../test/support/webhook-receiver.ts';
import { postWebhook } from './post.ts';

/** Against a real HTTP server on 127.0.0.1. */
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await new WebhookReceiver()
    .on('/fail', () => 500)
    .on('/hang', () => 'hang')
    .on('/moved', () => 302)
    .start();
});
afterAll(async () => {
  await receiver?.stop();
});

const headers = { 'webhook-id': 'x' };

describe('postWebhook', () => {
  it('POSTs the body with the given headers; any 2xx is success', async () => {
    const result = await postWebhook(`${receiver.url}/ok`, '{"a":1}', headers, { timeoutMs: 2000, allowPrivate: true });
    expect(result).toMatchObject({ ok: true, status: 204 });
    const [request] = receiver.requests('/ok');
    expect(request?.body).toBe('{"a":1}');
    expect(request?.headers).toMatchObject({ 'webhook-id': 'x', 'content-type': 'application/json' });
  });

  it('reports an error status, a redirect (not followed) and a timeout as failures', async () => {
    expect(await postWebhook(`${receiver.url}/fail`, '{}', headers, { timeoutMs: 2000, allowPrivate: true })).toMatchObject({
      ok: false,
      status: 500,
    });
    expect(await postWebhook(`${receiver.url}/moved`, '{}', headers, { timeoutMs: 2000, allowPrivate: true })).toMatchObject({
      ok: false,
      status: 302,
    });
    const hung = await postWebhook(`${receiver.url}/hang`, '{}', headers, { timeoutMs: 300, allowPrivate: true });
    expect(hung).toMatchObject({ ok: false, reason: 'no response within 300 ms' });
    expect(hung.ms).toBeLessThan(2000);
  });

  it('refuses a private address at connect time, for a literal and for a name that resolves to one', async () => {
    const port = new URL(receiver.url).port;
    const before = receiver.received.length;
    for (const url of [`http://127.0.0.1:${port}/ok`, `http://localhost:${port}/ok`]) {
      const result = await postWebhook(url, '{}', headers, { timeoutMs: 2000, allowPrivate: false });
      expect(result, url).toMatchObject({ ok: false, reason: expect.stringMatching(/non-public address/) });
    }
    expect(receiver.received.length).toBe(before);
  });
});
