import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newVideoId } from '../core/ids.ts';
import { outputKey } from '../core/status-store.ts';
import { queuedVideo } from '../core/video-status.ts';
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

describe('caching of access-controlled outputs', () => {
  it('a presigned output link asks S3 for private caching, even for an object stored with public caching', async () => {
    // A ready video whose output was written before this rule (public, a year): its links must still say private.
    const id = newVideoId();
    const key = outputKey(id, 'thumbnail.jpg');
    await stack.clients.s3.send(
      new PutObjectCommand({
        Bucket: stack.resources.names.mediaBucket,
        Key: key,
        Body: Buffer.from('not really a jpeg'),
        ContentType: 'image/jpeg',
        CacheControl: 'public, max-age=31536000, immutable',
      }),
    );
    const doc = queuedVideo(id, 'default', 'normal', { key: `uploads/${id}`, bytes: 1, contentType: 'video/mp4' });
    await stack.store.create({ ...doc, status: 'ready', outputs: { thumbnail: { key, contentType: 'image/jpeg', bytes: 17, width: 1, height: 1 } } });

    const redirect = await fetch(`${stack.baseUrl}/v1/videos/${id}/outputs/thumbnail`, { headers: auth, redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const link = new URL(redirect.headers.get('location')!);
    expect(link.hostname).toBe('127.0.0.1');
    // S3 answers a signed response-cache-control with that Cache-Control (fauxqs ignores the override, so
    // the parameter is what can be checked here; the stored header of new outputs is checked in pipeline.test.ts).
    expect(link.searchParams.get('response-cache-control')).toMatch(/^private\b/);
    expect(link.searchParams.get('X-Amz-SignedHeaders')).toBeTruthy();
    expect((await fetch(link)).status).toBe(200);
  });
});
