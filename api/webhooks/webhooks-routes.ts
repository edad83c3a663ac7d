import { Hono, type Context } from 'hono';
import { ulid } from 'ulid';
import { z } from 'zod';
import { HttpProblem } from '../../core/errors.ts';
import { EVENT_TYPES } from '../../core/events.ts';
import { newWebhookSecret, webhookHeaders } from '../../core/webhooks/standard-webhooks.ts';
import { tenantOf } from '../../core/tenants.ts';
import { postWebhook } from '../../core/webhooks/post.ts';
import {
  isEnabled,
  isWebhookId,
  newWebhookId,
  signingSecrets,
  type Webhook,
  type WebhookInfo,
  type WebhookStore,
} from '../../core/webhooks/store.ts';
import { checkWebhookUrl, WebhookUrlError, type ResolveAll } from '../../core/webhooks/url.ts';
import type { AppEnv } from '../app-env.ts';
import { redeliverDeadLetters, type DeliveryQueues } from './webhook-redelivery.ts';
import { jsonBodyLimit, readJsonBody } from '../middleware/json-body.ts';
import { badRequest, notFound } from '../middleware/problem.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import type { OperationDocs } from '../openapi.ts';

export interface WebhookRoutesDeps {
  store: WebhookStore;
  /** `REELAY_WEBHOOK_ALLOW_PRIVATE`: accept loopback and private addresses. */
  allowPrivate: boolean;
  /** DNS resolution of the URL's host (injectable for tests). */
  resolve?: ResolveAll;
  /** `REELAY_WEBHOOK_MAX_ENDPOINTS`: endpoints one tenant may register (unset: no limit). */
  maxEndpoints?: number;
  /** Time limit of a test delivery, ms (REELAY_WEBHOOK_TIMEOUT_SECONDS). */
  timeoutMs?: number;
  /** `REELAY_WEBHOOK_REDELIVER_PER_MINUTE`: redelivery calls per API key (unset or 0: unlimited). */
  redeliverPerMinute?: number;
  /** The deliveries queue, for redelivery (unset: no redelivery route). */
  deliveries?: DeliveryQueues;
  /**
   * True when new signing secrets must be stored sealed (API keys are set) and this process has no
   * REELAY_SECRETS_KEY: registering and rotating answer 503 saying so; the rest works without it.
   */
  missingSecretsKey?: boolean;
}

/** The 503 of a route that would store a new signing secret without the key to seal it. */
const NO_SECRETS_KEY =
  'webhooks cannot be registered or rotated: set REELAY_SECRETS_KEY (64 hex characters, `openssl rand -hex 32`) on every API and webhooks process; signing secrets are stored encrypted with it';

export const patchBody = z
  .strictObject({
    url: z.string().min(1).optional(),
    events: z
      .array(z.enum(EVENT_TYPES))
      .min(1, `name at least one event type (${EVENT_TYPES.join(', ')})`)
      .max(EVENT_TYPES.length * 2)
      .optional(),
    enabled: z.boolean().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'name at least one of url, events, enabled');

/** A day: how long a replaced secret keeps signing unless the request says otherwise. */
const DEFAULT_GRACE_SECONDS = 86_400;
export const rotateBody = z.strictObject({
  graceSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .optional(),
});

export const createBody = z.strictObject({
  url: z.string().min(1),
  events: z
    .array(z.enum(EVENT_TYPES))
    .min(1, `name at least one event type (${EVENT_TYPES.join(', ')})`)
    .max(EVENT_TYPES.length * 2),
});

/** The public JSON of a webhook: never a secret (the current one is shown once, on creation or rotation). */
export function webhookView({ secret: _secret, previousSecret, ...webhook }: WebhookInfo & { secret?: string }) {
  return {
    ...webhook,
    enabled: isEnabled(webhook),
    ...(previousSecret ? { previousSecretExpiresAt: previousSecret.expiresAt } : {}),
    links: { self: `/v1/webhooks/${webhook.id}` },
  };
}

/**
 * `/v1/webhooks`: POST registers an endpoint `{url, events[]}` and returns its
 * signing secret (the only time it is shown); GET lists them; GET/DELETE
 * `/:id` show or remove one.
 */
export function webhookRoutes({
  store,
  allowPrivate,
  resolve,
  maxEndpoints,
  redeliverPerMinute = 0,
  timeoutMs = 10_000,
  deliveries,
  missingSecretsKey = false,
}: WebhookRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const requireSecretsKey = () => {
    if (missingSecretsKey) throw new HttpProblem(503, 'Service Unavailable', NO_SECRETS_KEY);
  };
  const checkUrl = async (text: string): Promise<URL> => {
    try {
      return await checkWebhookUrl(text, { allowPrivate, ...(resolve ? { resolve } : {}) });
    } catch (err) {
      if (err instanceof WebhookUrlError) throw badRequest(`url: ${err.message}`);
      throw err;
    }
  };
  /**
   * Changes the caller's webhook with `update` (the store's `update`, which opens the secrets, or
   * `updateInfo`, which leaves them as stored); 404 when it has none with that id (or it was deleted meanwhile).
   */
  const change = async <W extends WebhookInfo>(
    c: Context<AppEnv>,
    update: (id: string, change: (current: W) => W | undefined) => Promise<W | undefined>,
    apply: (webhook: W, now: string) => W,
  ): Promise<W> => {
    const id = c.req.param('id') ?? '';
    const tenant = c.get('tenant');
    await getWebhook(store, id, tenant);
    const now = new Date().toISOString();
    const updated = await update(id, (current) => (tenantOf(current) === tenant ? { ...apply(current, now), updatedAt: now } : undefined));
    if (!updated) throw noSuchWebhook(id);
    return updated;
  };

  app.post('/', jsonBodyLimit(), async (c) => {
    requireSecretsKey();
    const body = await readJsonBody(c, createBody);
    const url = await checkUrl(body.url);
    const tenant = c.get('tenant');
    // Every event is fanned out to every endpoint of its tenant: their number is bounded.
    const full = () =>
      new HttpProblem(
        409,
        'Conflict',
        `this tenant already has ${maxEndpoints} webhook endpoints (REELAY_WEBHOOK_MAX_ENDPOINTS); delete one first`,
      );
    if (maxEndpoints !== undefined && (await store.list(tenant)).length >= maxEndpoints) throw full();
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
    // The check above lets concurrent registrations all pass it (and S3 has no counter to take atomically on
    // every store reelay runs on), so the cap is checked again once this one exists: only the tenant's oldest
    // `maxEndpoints` (ids are ULIDs: by creation) may stay, so racers that see the same list agree on who goes.
    if (maxEndpoints !== undefined) {
      const index = (await store.list(tenant)).findIndex((existing) => existing.id === webhook.id);
      if (index >= maxEndpoints) {
        await store.delete(webhook.id, tenant);
        throw full();
      }
    }
    c.header('location', `/v1/webhooks/${webhook.id}`);
    return c.json({ ...webhookView(webhook), secret: webhook.secret }, 201);
  });

  app.get('/', async (c) => c.json({ items: (await store.list(c.get('tenant'))).map(webhookView) }));

  app.get('/:id', async (c) => c.json(webhookView(await getWebhook(store, c.req.param('id'), c.get('tenant')))));

  /** `{url?, events?, enabled?}`: enabling again ends a run of failures (and an automatic disable). */
  app.patch('/:id', jsonBodyLimit(), async (c) => {
    const body = await readJsonBody(c, patchBody);
    const url = body.url === undefined ? undefined : (await checkUrl(body.url)).href;
    const updated = await change(c, store.updateInfo.bind(store), (webhook) => {
      const next: WebhookInfo = { ...webhook };
      if (url !== undefined) next.url = url;
      if (body.events) next.events = [...new Set(body.events)];
      if (body.enabled === true) {
        delete next.enabled;
        delete next.disabledReason;
        delete next.failingSince;
      } else if (body.enabled === false) {
        next.enabled = false;
        delete next.disabledReason;
      }
      return next;
    });
    return c.json(webhookView(updated));
  });

  /** A signed `webhook.test` delivery now, answered with how it went (never retried). */
  app.post('/:id/test', async (c) => {
    const id = c.req.param('id');
    const webhook = isWebhookId(id) ? await store.getOwned(id, c.get('tenant')) : undefined;
    if (!webhook) throw noSuchWebhook(id);
    const event = {
      specversion: '1.0',
      id: `webhook.test:${ulid()}`,
      source: '/reelay/api',
      type: 'webhook.test',
      time: new Date().toISOString(),
      subject: webhook.id,
      datacontenttype: 'application/json',
      tenant: tenantOf(webhook),
      data: { webhookId: webhook.id },
    };
    const body = JSON.stringify(event);
    const result = await postWebhook(webhook.url, body, webhookHeaders({ id: event.id, body, secret: signingSecrets(webhook) }), {
      timeoutMs,
      allowPrivate,
    });
    return c.json({
      delivered: result.ok,
      ...(result.status !== undefined ? { status: result.status } : {}),
      reason: result.reason,
      ms: result.ms,
      eventId: event.id,
    });
  });

  /**
   * Rotates the signing secret: the new one is answered (only here); the old one keeps signing next to it
   * (two signatures per delivery) for `graceSeconds` (default a day), so receivers can switch without a gap.
   */
  app.post('/:id/secret', jsonBodyLimit(), async (c) => {
    requireSecretsKey();
    const { graceSeconds = DEFAULT_GRACE_SECONDS } = await readJsonBody(c, rotateBody, { optional: true });
    const secret = newWebhookSecret();
    const updated = await change(c, store.update.bind(store), (webhook: Webhook, now) => {
      const { previousSecret: _old, ...rest } = webhook;
      const expiresAt = new Date(Date.parse(now) + graceSeconds * 1000).toISOString();
      return { ...rest, secret, ...(graceSeconds > 0 ? { previousSecret: { secret: webhook.secret, expiresAt } } : {}) };
    });
    return c.json({ ...webhookView(updated), secret });
  });

  /** Moves the webhook's dead-lettered deliveries back to the deliveries queue: each gets its attempts again. */
  const redeliverLimit = rateLimit({
    perMinute: redeliverPerMinute,
    burst: Math.min(2, redeliverPerMinute),
    methods: ['POST'],
    what: 'webhook redelivery',
    setting: 'REELAY_WEBHOOK_REDELIVER_PER_MINUTE',
  });
  app.post('/:id/redeliver', redeliverLimit, async (c) => {
    const webhook = await getWebhook(store, c.req.param('id'), c.get('tenant'));
    if (!deliveries) throw new HttpProblem(503, 'Service Unavailable', 'redelivery is not available on this API');
    if (!isEnabled(webhook))
      throw new HttpProblem(409, 'Conflict', `webhook ${webhook.id} is disabled: enable it (PATCH {"enabled": true}) before redelivering`);
    return c.json(await redeliverDeadLetters(deliveries, store.deadLetters, webhook.id));
  });

  app.delete('/:id', async (c) => {
    const id = c.req.param('id');
    if (!isWebhookId(id) || !(await store.delete(id, c.get('tenant')))) throw noSuchWebhook(id);
    return c.body(null, 204);
  });

  return app;
}

const noSuchWebhook = (id: string) => notFound(`no webhook with id ${JSON.stringify(id.slice(0, 50))}`);

/** The caller's webhook, without its secrets (no key needed); 404 when it has none with that id. */
async function getWebhook(store: WebhookStore, id: string, tenant: string): Promise<WebhookInfo> {
  const webhook = isWebhookId(id) ? await store.getOwnedInfo(id, tenant) : undefined;
  if (!webhook) throw noSuchWebhook(id);
  return webhook;
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const WEBHOOK_OPERATIONS: OperationDocs = {
  'POST /v1/webhooks': {
    summary: 'Register a webhook endpoint',
    tag: 'webhooks',
    success: [201, 'the webhook with its signing secret'],
    errors: [400, 401, 409, 422, 503],
    body: { schema: createBody },
  },
  'GET /v1/webhooks': { summary: 'List webhooks', tag: 'webhooks', success: [200, 'the webhooks'], errors: [401] },
  'GET /v1/webhooks/{id}': { summary: 'One webhook', tag: 'webhooks', success: [200, 'the webhook'], errors: [401, 404] },
  'PATCH /v1/webhooks/{id}': {
    summary: 'Change a webhook (url, events, enabled)',
    tag: 'webhooks',
    success: [200, 'the webhook'],
    errors: [400, 401, 404, 422],
    body: { schema: patchBody },
  },
  'DELETE /v1/webhooks/{id}': { summary: 'Delete a webhook', tag: 'webhooks', success: [204, 'deleted'], errors: [401, 404] },
  'POST /v1/webhooks/{id}/secret': {
    summary: 'Rotate the signing secret (the old one signs too for a grace period)',
    tag: 'webhooks',
    success: [200, 'the new secret'],
    errors: [400, 401, 404, 503],
    body: { schema: rotateBody },
  },
  'POST /v1/webhooks/{id}/test': {
    summary: 'Send a test delivery now',
    tag: 'webhooks',
    success: [200, 'the delivery result'],
    errors: [401, 404, 503],
  },
  'POST /v1/webhooks/{id}/redeliver': {
    summary: 'Redeliver dead-lettered deliveries',
    tag: 'webhooks',
    success: [200, 'how many were redelivered'],
    errors: [401, 404, 409, 429, 503],
  },
};
