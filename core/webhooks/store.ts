import type { S3Client } from '@aws-sdk/client-s3';
import { ulid } from 'ulid';
import type { EventType } from '../events.ts';
import { JsonDocuments } from '../json-documents.ts';
import { WebhookDeadLetters } from './dead-letters.ts';
import { SecretBox } from './secret-box.ts';
import { tenantOf } from '../tenants.ts';

/** One registered endpoint, `webhooks/<id>.json` in the media bucket (private: it holds the signing secret). */
export interface Webhook {
  id: string;
  /** The tenant whose events it receives; absent on webhooks registered before tenants existed (`default`'s). */
  tenant?: string;
  url: string;
  /** Event types delivered to it. */
  events: EventType[];
  /** `whsec_…`: returned once, when the webhook is created. Stored sealed with REELAY_SECRETS_KEY. */
  secret: string;
  createdAt: string;
  updatedAt: string;
  /** Deliveries given up after the last attempt (each one kept in its dead letters until redelivered). */
  failureCount: number;
  lastFailure?: WebhookFailure;
  /** False: no deliveries (PATCH, or disabled after failing too long). Absent on older documents: enabled. */
  enabled?: boolean;
  /** Why it was disabled automatically. */
  disabledReason?: string;
  /** When the current run of failures began: the first dead-lettered delivery since the last success. */
  failingSince?: string;
  /** During a secret rotation: the replaced secret, still signing deliveries (next to the new one) until `expiresAt`. */
  previousSecret?: { secret: string; expiresAt: string };
}

/** The secrets a delivery is signed with now: the current one, and the replaced one during its grace period. */
export function signingSecrets(webhook: Webhook, now = Date.now()): string[] {
  const previous = webhook.previousSecret;
  return previous && Date.parse(previous.expiresAt) > now ? [webhook.secret, previous.secret] : [webhook.secret];
}

/**
 * A webhook without its secrets: all that listing, showing, changing (url, events, enabled), deleting and
 * the fan-out need. Read without opening the secrets, so it needs no REELAY_SECRETS_KEY.
 */
export type WebhookInfo = Omit<Webhook, 'secret' | 'previousSecret'> & { previousSecret?: { expiresAt: string } };

export const isEnabled = (webhook: WebhookInfo): boolean => webhook.enabled !== false;

export interface WebhookFailure {
  at: string;
  eventId: string;
  eventType: string;
  attempts: number;
  /** Why the last attempt failed: the HTTP status, a timeout, a refused address… */
  reason: string;
  status?: number;
}

const WEBHOOK_ID = /^wh_[0-9A-HJKMNP-TV-Z]{26}$/;

export function newWebhookId(): string {
  return `wh_${ulid()}`;
}

export function isWebhookId(value: string): boolean {
  return WEBHOOK_ID.test(value);
}

/** The webhook as stored: its secret sealed (`SecretBox`), never in plain text when a key is configured. */
type StoredWebhook = Webhook;

/** Webhook documents; any number of API and dispatcher processes share them through S3. */
export class WebhookStore {
  private readonly docs: JsonDocuments<StoredWebhook>;
  private readonly box: SecretBox;
  /** Each webhook's deliveries given up after their last attempt, for `POST /v1/webhooks/:id/redeliver`. */
  readonly deadLetters: WebhookDeadLetters;
  /** `box`: seals the signing secret at rest (REELAY_SECRETS_KEY); without a key it is stored as it is. */
  constructor(s3: S3Client, mediaBucket: string, box: SecretBox = new SecretBox(undefined)) {
    this.docs = new JsonDocuments(s3, mediaBucket, 'webhooks');
    this.box = box;
    this.deadLetters = new WebhookDeadLetters(s3, mediaBucket);
  }

  private seal(webhook: Webhook): StoredWebhook {
    return mapSecrets(webhook, (secret) => this.box.seal(secret, webhook.id));
  }

  private open(stored: StoredWebhook): Webhook {
    return mapSecrets(stored, (secret) => this.box.open(secret, stored.id));
  }

  /** Without the secrets: nothing is decrypted. */
  private info(stored: StoredWebhook): WebhookInfo {
    const { secret: _secret, previousSecret, ...info } = stored;
    return { ...info, ...(previousSecret ? { previousSecret: { expiresAt: previousSecret.expiresAt } } : {}) };
  }

  create(webhook: Webhook): Promise<void> {
    return this.docs.create(webhook.id, this.seal(webhook));
  }

  async get(id: string): Promise<Webhook | undefined> {
    const stored = await this.docs.get(id);
    return stored && this.open(stored);
  }

  /** The webhook if it belongs to `tenant`; another tenant's is as absent as an unknown one. */
  async getOwned(id: string, tenant: string): Promise<Webhook | undefined> {
    const stored = await this.docs.get(id);
    return stored && tenantOf(stored) === tenant ? this.open(stored) : undefined;
  }

  /** `getOwned` without the secrets (needs no key). */
  async getOwnedInfo(id: string, tenant: string): Promise<WebhookInfo | undefined> {
    const stored = await this.docs.get(id);
    return stored && tenantOf(stored) === tenant ? this.info(stored) : undefined;
  }

  /** One tenant's webhooks (every tenant's when `tenant` is undefined), oldest first (ids are ULIDs); no secrets. */
  async list(tenant?: string): Promise<WebhookInfo[]> {
    const all = (await this.docs.list()).filter((stored) => tenant === undefined || tenantOf(stored) === tenant);
    return all.map((stored) => this.info(stored)).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Deletes the tenant's webhook and its dead letters; false when it has none with that id. */
  async delete(id: string, tenant: string): Promise<boolean> {
    if (!(await this.getOwnedInfo(id, tenant))) return false;
    await this.docs.delete(id);
    await this.deadLetters.deleteAll(id);
    return true;
  }

  /**
   * Read, change, conditional write of one webhook (see JsonDocuments.update); `change` sees the secret in
   * the clear and what it returns is sealed again. Undefined from `change`, or no such webhook: nothing written.
   */
  async update(id: string, change: (webhook: Webhook) => Webhook | undefined): Promise<Webhook | undefined> {
    const { doc, changed } = await this.docs.update(id, (stored) => {
      if (!stored) return undefined;
      const next = change(this.open(stored));
      return next && this.seal(next);
    });
    return changed && doc ? this.open(doc) : undefined;
  }

  /**
   * `update` for everything but the secrets: `change` sees the webhook without them and they are kept as
   * stored (a plain one from before encryption is sealed when there is a key), so no key is needed.
   */
  async updateInfo(id: string, change: (webhook: WebhookInfo) => WebhookInfo | undefined): Promise<WebhookInfo | undefined> {
    const { doc, changed } = await this.docs.update(id, (stored) => {
      if (!stored) return undefined;
      const next = change(this.info(stored));
      if (!next) return undefined;
      const { previousSecret: _info, ...rest } = next;
      const { secret, previousSecret } = stored;
      const kept: StoredWebhook = { ...rest, secret, ...(previousSecret ? { previousSecret } : {}) };
      return mapSecrets(kept, (value) => this.box.sealIfPlain(value, id));
    });
    return changed && doc ? this.info(doc) : undefined;
  }

  /**
   * Counts a delivery that was given up; a webhook deleted meanwhile stays deleted. When every delivery has
   * failed for `disableAfterMs` (0: never) the webhook is disabled; `disabled` says whether this call did it.
   */
  async recordFailure(
    id: string,
    failure: WebhookFailure,
    { disableAfterMs = 0 } = {},
  ): Promise<{ webhook?: WebhookInfo; disabled: boolean }> {
    let disabled = false;
    const webhook = await this.updateInfo(id, (current) => {
      const failingSince = current.failingSince ?? failure.at;
      const next: WebhookInfo = {
        ...current,
        failureCount: current.failureCount + 1,
        lastFailure: failure,
        failingSince,
        updatedAt: failure.at,
      };
      disabled = disableAfterMs > 0 && isEnabled(current) && Date.parse(failure.at) - Date.parse(failingSince) >= disableAfterMs;
      if (disabled) {
        const days = Math.round((Date.parse(failure.at) - Date.parse(failingSince)) / 86_400_000);
        next.enabled = false;
        next.disabledReason = `every delivery since ${failingSince} failed (${days} days; the last: ${failure.reason})`;
      }
      return next;
    });
    return { ...(webhook ? { webhook } : {}), disabled: disabled && webhook !== undefined };
  }

  /** A delivery succeeded: the run of failures, if any, is over. */
  async recordSuccess(id: string): Promise<void> {
    await this.updateInfo(id, (current) => {
      if (!current.failingSince) return undefined;
      const { failingSince: _f, ...rest } = current;
      return rest;
    });
  }
}

/** The webhook with `change` applied to its secret and its replaced secret, if any. */
function mapSecrets(webhook: Webhook, change: (secret: string) => string): Webhook {
  const { previousSecret } = webhook;
  return {
    ...webhook,
    secret: change(webhook.secret),
    ...(previousSecret ? { previousSecret: { ...previousSecret, secret: change(previousSecret.secret) } } : {}),
  };
}
