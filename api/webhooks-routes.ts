import { Hono } from 'hono';
import { z } from 'zod';
import { HttpProblem } from '../core/errors.ts';
import { EVENT_TYPES } from '../core/events.ts';
import { newWebhookSecret } from '../core/standard-webhooks.ts';
import { isWebhookId, newWebhookId, type Webhook, type WebhookStore } from '../core/webhook-store.ts';
import { checkWebhookUrl, WebhookUrlError, type ResolveAll } from '../core/webhook-url.ts';
import type { AppEnv } from './app-env.ts';
import { jsonBodyLimit, readJsonBody } from './json-body.ts';
import { badRequest, notFound } from './problem.ts';

export interface WebhookRoutesDeps {
  store: WebhookStore;
  /** `REELAY_WEBHOOK_ALLOW_PRIVATE`: accept loopback and private addresses. */
  allowPrivate: boolean;
  /** DNS resolution of the URL's host (injectable for tests). */
  resolve?: ResolveAll;
  /** `REELAY_WEBHOOK_MAX_ENDPOINTS`: endpoints one tenant may register (unset: no limit). */
  maxEndpoints?: number;
}

const createBody = z.strictObject({
  url: z.string().min(1),
  events: z
    .array(z.enum(EVENT_TYPES))
    .min(1, `name at least one event type (${EVENT_TYPES.join(', ')})`)
    .max(EVENT_TYPES.length * 2),
});

/** The public JSON of a webhook: never the secret (that is shown once, on creation). */
export function webhookView({ secret: _secret, ...webhook }: Webhook) {
  return { ...webhook, links: { self: `/v1/webhooks/${webhook.id}` } };
}

/**
 * `/v1/webhooks`: POST registers an endpoint `{url, events[]}` and returns its
 * signing secret (the only time it is shown); GET lists them; GET/DELETE
 * `/:id` show or remove one.
 */
export function webhookRoutes({ store, allowPrivate, resolve, maxEndpoints }: WebhookRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/', jsonBodyLimit(), async (c) => {
    const body = await readJsonBody(c, createBody);
    let url: URL;
    try {
      url = await checkWebhookUrl(body.url, { allowPrivate, ...(resolve ? { resolve } : {}) });
    } catch (err) {
      if (err instanceof WebhookUrlError) throw badRequest(`url: ${err.message}`);
      throw err;
    }
    const tenant = c.get('tenant');
    // Every event is fanned out to every endpoint of its tenant: their number is bounded.
    if (maxEndpoints !== undefined && (await store.list(tenant)).length >= maxEndpoints) {
      throw new HttpProblem(409, 'Conflict', `this tenant already has ${maxEndpoints} webhook endpoints (REELAY_WEBHOOK_MAX_ENDPOINTS); delete one first`);
    }
    const now = new Date().toISOString();
    const webhook: Webhook = {
      id: newWebhookId(),
      tenant,
      url: url.href,
      events: [...new Set(body.events)],
      secret: newWebhookSecret(),
      createdAt: now,
      updatedAt: now,
      failureCount: 0,
    };
    await store.create(webhook);
    c.header('location', `/v1/webhooks/${webhook.id}`);
    return c.json({ ...webhookView(webhook), secret: webhook.secret }, 201);
  });

  app.get('/', async (c) => c.json({ items: (await store.list(c.get('tenant'))).map(webhookView) }));

  app.get('/:id', async (c) => c.json(webhookView(await getWebhook(store, c.req.param('id'), c.get('tenant')))));

  app.delete('/:id', async (c) => {
    const id = c.req.param('id');
    if (!isWebhookId(id) || !(await store.delete(id, c.get('tenant')))) throw notFound(`no webhook with id ${JSON.stringify(id.slice(0, 50))}`);
    return c.body(null, 204);
  });

  return app;
}

async function getWebhook(store: WebhookStore, id: string, tenant: string): Promise<Webhook> {
  const webhook = isWebhookId(id) ? await store.getOwned(id, tenant) : undefined;
  if (!webhook) throw notFound(`no webhook with id ${JSON.stringify(id.slice(0, 50))}`);
  return webhook;
}
