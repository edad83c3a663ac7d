import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks (https://www.standardwebhooks.com) signing: secrets are
 * `whsec_<base64 key>`; each request carries `webhook-id` (the same on every
 * retry, for the receiver's de-duplication), `webhook-timestamp` (unix
 * seconds of this attempt) and `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<body>" keyed with the decoded secret>`.
 */
export const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

export function signWebhook({ id, timestamp, body, secret }: { id: string; timestamp: number; body: string; secret: string }): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** The headers of one delivery attempt. */
export function webhookHeaders({ id, body, secret, now = new Date() }: { id: string; body: string; secret: string; now?: Date }): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook({ id, timestamp, body, secret }),
  };
}
