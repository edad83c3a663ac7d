import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * Issue #15 against the real API and emulator, with API keys on and the
 * private-address guard on (only IP literals are registered here, so no DNS
 * is asked; nothing is ever sent to them).
 */
const KEY = 'security-key-0123456789abcdef';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false, env: { REELAY_API_KEYS: KEY } });
});
afterAll(async () => {
  await stack?.stop();
});

const auth = { authorization: `Bearer ${KEY}` };

async function registerWebhook(url: string): Promise<Response> {
  return fetch(`${stack.baseUrl}/v1/webhooks`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ url, events: ['video.ready'] }),
  });
}

async function webhookCount(): Promise<number> {
  const res = await fetch(`${stack.baseUrl}/v1/webhooks`, { headers: auth });
  return ((await res.json()) as { items: unknown[] }).items.length;
}

describe('webhook URLs (SSRF guard)', () => {
  it('refuses IPv4-compatible IPv6 (::/96) and IPv6 that embeds a private IPv4', async () => {
    const before = await webhookCount();
    for (const url of [
      'http://[::127.0.0.1]:9/',
      'http://[::a9fe:a9fe]/latest/meta-data',
      'http://[::10.0.0.1]/x',
      'http://[::8.8.8.8]/x',
      'http://[2606:4700::5efe:a00:1]/x',
      'http://[2606:4700::200:5efe:a9fe:a9fe]/x',
    ]) {
      const res = await registerWebhook(url);
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as { detail: string }).detail, url).toMatch(/non-public address/);
    }
    expect(await webhookCount()).toBe(before);
  });

  it('refuses credentials in the URL with a 400 pointing to signatures, and stores nothing', async () => {
    const before = await webhookCount();
    const res = await registerWebhook('https://user:hunter2@93.184.215.14/hooks');
    expect(res.status).toBe(400);
    const { detail } = (await res.json()) as { detail: string };
    expect(detail).toMatch(/credentials/);
    expect(detail).toMatch(/webhook-signature/);
    expect(detail).not.toContain('hunter2');
    expect(await webhookCount()).toBe(before);
  });
});
