import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signWebhook, webhookHeaders } from './standard-webhooks.ts';

describe('Standard Webhooks signing', () => {
  it('reproduces the specification’s published test vector', () => {
    const signature = signWebhook({
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    });
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('makes whsec_ secrets of 32 random bytes, each different', () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(a);
  });

  it('signs each attempt with its own timestamp and the same id', () => {
    const secret = newWebhookSecret();
    const headers = webhookHeaders({ id: 'video.ready:V1', body: '{}', secret, now: new Date(1_700_000_000_500) });
    expect(headers['webhook-id']).toBe('video.ready:V1');
    expect(headers['webhook-timestamp']).toBe('1700000000');
    const expected = createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
      .update('video.ready:V1.1700000000.{}')
      .digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
  });
});
