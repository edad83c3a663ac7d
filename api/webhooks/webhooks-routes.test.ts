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

/** A store kept in a map whose every call yields first, so concurrent requests interleave as on S3. */
function racingStore() {
  const saved = new Map<string, Webhook>();
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  const store = {
    create: async (w: Webhook) => {
      await tick();
      saved.set(w.id, w);
    },
    list: async () => {
      await tick();
      return [...saved.values()].sort((a, b) => a.id.localeCompare(b.id));
    },
    delete: async (id: string) => {
      await tick();
      return saved.delete(id);
    },
    getOwnedInfo: async (id: string) => {
      await tick();
      return saved.get(id);
    },
    deadLetters: { ids: async () => ({ ids: [], more: false }) },
  } as unknown as WebhookStore;
  return { store, saved };
}

describe('POST /v1/webhooks endpoint cap', () => {
  it('holds when registrations race: concurrent requests all passed the check before any was created (#23 item 12)', async () => {
    const { store, saved } = racingStore();
    const hono = new Hono<AppEnv>();
    hono.onError(errorHandler(silentLogger()));
    hono.use(async (c, next) => {
      c.set('tenant', 'acme');
      await next();
    });
    hono.route('/v1/webhooks', webhookRoutes({ store, allowPrivate: true, maxEndpoints: 3 }));
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () =>
        hono.request('/v1/webhooks', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ url: 'http://127.0.0.1:9/in', events: ['video.ready'] }),
        }),
      ),
    ).then((responses) => responses.map((r) => r.status));
    expect(saved.size).toBe(3);
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
  });
});

describe('POST /v1/webhooks/:id/redeliver', () => {
  it('is rate-limited per caller: a burst of 2, then 429 with Retry-After (#23 item 7)', async () => {
    const { store, saved } = racingStore();
    const id = 'wh_01ARZ3NDEKTSV4RRFFQ69G5FAV';
    saved.set(id, { id, tenant: 'default', url: 'http://127.0.0.1:9/', events: ['video.ready'] } as Webhook);
    const hono = new Hono<AppEnv>();
    hono.onError(errorHandler(silentLogger()));
    const deliveries = { sqs: {} as never, queueUrl: 'unused' };
    hono.route('/v1/webhooks', webhookRoutes({ store, allowPrivate: true, deliveries, redeliverPerMinute: 6 }));
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const res = await hono.request(`/v1/webhooks/${id}/redeliver`, { method: 'POST' });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });
});
