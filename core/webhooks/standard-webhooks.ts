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

/**
 * The headers of one delivery attempt. Several secrets (during a rotation: the new one and the one it
 * replaces) give several signatures, space-separated, as Standard Webhooks allows: a receiver accepts the
 * request when any one of them verifies with the secret it holds.
 */
export function webhookHeaders({
  id,
  body,
  secret,
  now = new Date(),
}: {
  id: string;
  body: string;
  secret: string | readonly string[];
  now?: Date;
}): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  const secrets = typeof secret === 'string' ? [secret] : secret;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => signWebhook({ id, timestamp, body, secret: s })).join(' '),
  };
}
