import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import type { ApiKey } from '../../core/config/index.ts';
import type { AppEnv } from '../app-env.ts';
import { apiKeyAuth, keyId, sameSecret, tokenScopeForRoute } from './auth.ts';
import { errorHandler } from '../middleware/problem.ts';
import { TokenBuckets, uploadRateLimit } from '../middleware/rate-limit.ts';

const KEY_A = 'a'.repeat(24);
const KEY_B = 'b'.repeat(40);

function app(keys: (string | ApiKey)[], rate?: { perMinute: number; burst: number }) {
  const hono = new Hono<AppEnv>();
  hono.onError(errorHandler(silentLogger()));
  hono.use(
    apiKeyAuth({
      keys: keys.map((key) => (typeof key === 'string' ? { tenant: 'default', key } : key)),
      publicPaths: new Set(['/healthz']),
    }),
  );
  if (rate) hono.use('/v1/videos', uploadRateLimit(rate));
  hono.get('/healthz', (c) => c.text('ok'));
  hono.get('/v1/videos', (c) => c.json({ caller: c.get('caller'), tenant: c.get('tenant') }));
  hono.post('/v1/videos', (c) => c.json({ caller: c.get('caller') }, 202));
  return hono;
}

describe('apiKeyAuth', () => {
  it('lets /healthz through without a key', async () => {
    expect((await app([KEY_A]).request('/healthz')).status).toBe(200);
  });

  it('401 problem+json without a key, with a wrong key, or with another scheme', async () => {
    for (const authorization of [undefined, `Bearer ${'z'.repeat(24)}`, `Basic ${KEY_A}`, 'Bearer']) {
      const res = await app([KEY_A]).request('/v1/videos', { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/API key/);
    }
  });

  it('accepts any configured key and names the caller by a hash, never the key', async () => {
    const res = await app([KEY_A, KEY_B]).request('/v1/videos', { headers: { authorization: `Bearer ${KEY_B}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ caller: keyId(KEY_B), tenant: 'default' });
    expect(keyId(KEY_B)).toMatch(/^[0-9a-f]{12}$/);
  });

  it('a key acts for its own tenant', async () => {
    const hono = app([
      { tenant: 'acme', key: KEY_A },
      { tenant: 'globex', key: KEY_B },
    ]);
    const as = async (key: string) => (await hono.request('/v1/videos', { headers: { authorization: `Bearer ${key}` } })).json();
    expect(await as(KEY_A)).toEqual({ caller: keyId(KEY_A), tenant: 'acme' });
    expect(await as(KEY_B)).toEqual({ caller: keyId(KEY_B), tenant: 'globex' });
  });

  it('with no keys configured (REELAY_AUTH=none) everyone is anonymous', async () => {
    expect(await (await app([]).request('/v1/videos')).json()).toEqual({ caller: 'anonymous', tenant: 'default' });
  });

  it('sameSecret compares whole secrets', () => {
    expect(sameSecret(KEY_A, KEY_A)).toBe(true);
    expect(sameSecret(KEY_A, `${KEY_A}x`)).toBe(false);
    expect(sameSecret('', KEY_A)).toBe(false);
  });
});

describe('upload rate limit', () => {
  it('429 with Retry-After once the burst is used, per key; reads are not limited', async () => {
    const hono = app([KEY_A, KEY_B], { perMinute: 6, burst: 2 });
    const post = (key: string) => hono.request('/v1/videos', { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect((await post(KEY_A)).status).toBe(202);
    expect((await post(KEY_A)).status).toBe(202);
    const limited = await post(KEY_A);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(9);
    expect(limited.headers.get('content-type')).toBe('application/problem+json');
    expect((await post(KEY_B)).status).toBe(202);
    expect((await hono.request('/v1/videos', { headers: { authorization: `Bearer ${KEY_A}` } })).status).toBe(200);
  });

  it('token buckets refill at the rate', () => {
    let now = 0;
    const buckets = new TokenBuckets({ perMinute: 60, burst: 1, now: () => now });
    expect(buckets.take('k')).toBe(0);
    expect(buckets.take('k')).toBe(1000);
    now += 1000;
    expect(buckets.take('k')).toBe(0);
  });
});

describe('tokenScopeForRoute', () => {
  it("a playback token reaches a video's status, HLS, storyboard and outputs, never its original upload (issue #23)", () => {
    const id = '01JAAAAAAAAAAAAAAAAAAAAAAA';
    for (const path of [`/v1/videos/${id}`, `/v1/videos/${id}/hls/master.m3u8`, `/v1/videos/${id}/outputs/720p`])
      expect(tokenScopeForRoute('GET', path), path).toBe('playback');
    for (const path of [`/v1/videos/${id}/source`, `/v1/videos/${id}/source/`]) {
      expect(tokenScopeForRoute('GET', path), path).toBeUndefined();
      expect(tokenScopeForRoute('HEAD', path), path).toBeUndefined();
    }
  });
});
