import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import type { Webhook, WebhookStore } from '../../core/webhooks/store.ts';
import type { AppEnv } from '../app-env.ts';
import { errorHandler } from '../middleware/problem.ts';
import { webhookRoutes } from './webhooks-routes.ts';

/** The registration rules in-process (`app.request`), with a table for DNS and a map for S3. */
function app({ allowPrivate }: { allowPrivate: boolean }) {
  const saved = new Map<string, Webhook>();
  const store = { create: async (w: Webhook) => void saved.set(w.id, w) } as unknown as WebhookStore;
  const table: Record<string, string> = { 'hooks.example.com': '93.184.215.14', 'intranet.example.com': '10.0.0.7' };
  const resolve = async (host: string) => {
    if (!table[host]) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return [{ address: table[host], family: 4 }];
  };
  const hono = new Hono<AppEnv>();
  hono.onError(errorHandler(silentLogger()));
  hono.route('/v1/webhooks', webhookRoutes({ store, allowPrivate, resolve }));
  const post = (body: unknown) =>
    hono.request('/v1/webhooks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { post, saved };
}

describe('POST /v1/webhooks URL rules', () => {
  it('refuses private, loopback and link-local targets with a 400 naming the address', async () => {
    const { post, saved } = app({ allowPrivate: false });
    for (const url of ['http://intranet.example.com/x', 'http://127.0.0.1:8080/x', 'http://169.254.169.254/latest', 'http://[::1]/x']) {
      const res = await post({ url, events: ['video.ready'] });
      expect(res.status, url).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as { detail: string }).detail).toMatch(/^url: .*non-public address/);
    }
    expect(saved.size).toBe(0);
  });

  it('accepts a public https endpoint and returns its secret', async () => {
    const { post, saved } = app({ allowPrivate: false });
    const res = await post({ url: 'https://hooks.example.com/in', events: ['video.ready'] });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; secret: string };
    expect(body.secret).toMatch(/^whsec_/);
    expect(saved.get(body.id)?.secret).toBe(body.secret);
  });

  it('with REELAY_WEBHOOK_ALLOW_PRIVATE, a private target is accepted', async () => {
    const { post } = app({ allowPrivate: true });
    expect((await post({ url: 'http://intranet.example.com/x', events: ['live.started'] })).status).toBe(201);
  });
});
