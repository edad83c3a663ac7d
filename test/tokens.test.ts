import type { S3Client } from '@aws-sdk/client-s3';
import { ensureUploadCors } from '../infra/provision.ts';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReelayEvent } from '../core/events.ts';
import { SseClient } from '../testkit/sse-client.ts';
import { startTestStack, waitFor, type TestStack } from './support/stack.ts';
import { postVideo, type UploadOptions } from './support/upload.ts';

/**
 * Scoped tokens against the real emulator: what each scope reaches, where a
 * token is refused, expiry, tampering, single use of upload tokens, tenants,
 * and CORS for browsers (API and raw bucket).
 */
const KEY = 'acme:' + 'a'.repeat(24);
const OTHER = 'globex:' + 'g'.repeat(24);
const ORIGIN = 'http://127.0.0.1:5173';
const CLIP = new URL('../samples/small-480p.mkv', import.meta.url);
let stack: TestStack;

const keyHeader = (entry = KEY) => ({ authorization: `Bearer ${entry.slice(entry.indexOf(':') + 1)}` });

async function issue(body: Record<string, unknown>, entry = KEY): Promise<{ token: string; expiresAt: string }> {
  const res = await fetch(`${stack.baseUrl}/v1/tokens`, {
    method: 'POST',
    headers: { ...keyHeader(entry), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { token: string; expiresAt: string };
}

const postClip = (options: UploadOptions) => postVideo(stack.baseUrl, CLIP, { contentType: 'video/x-matroska', ...options });

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false, env: { REELAY_API_KEYS: `${KEY},${OTHER}`, REELAY_CORS_ORIGINS: ORIGIN } });
});
afterAll(async () => stack?.stop());

describe('scoped tokens', () => {
  it('an upload token creates one upload, as Bearer or ?token=, then is spent', async () => {
    const { token, expiresAt } = await issue({ scope: 'upload', ttlSeconds: 600 });
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(590_000);
    const first = await postClip({ headers: { authorization: `Bearer ${token}` } });
    expect(first.status).toBe(202);
    const video = (await first.json()) as { id: string; tenant: string };
    expect(video.tenant).toBe('acme');
    const again = await postClip({ params: { token } });
    expect(again.status).toBe(403);
    expect(((await again.json()) as { detail: string }).detail).toMatch(/already been used/);
    // The video is acme's: the key sees it.
    expect((await fetch(`${stack.baseUrl}/v1/videos/${video.id}`, { headers: keyHeader() })).status).toBe(200);
  });

  it('an upload token fixes priority and size', async () => {
    const fixed = await issue({ scope: 'upload', priority: 'low' });
    expect((await postClip({ params: { token: fixed.token, priority: 'high' } })).status).toBe(403);
    const ok = await postClip({ params: { token: (await issue({ scope: 'upload', priority: 'low' })).token } });
    expect(((await ok.json()) as { priority: string }).priority).toBe('low');
    const small = await issue({ scope: 'upload', maxBytes: 1000 });
    expect((await postClip({ params: { token: small.token } })).status).toBe(413);
  });

  it('tokens are refused where the issue says they never go: tokens, webhooks, channels, lists', async () => {
    const { token } = await issue({ scope: 'watch' });
    const bearer = { authorization: `Bearer ${token}` };
    const refused = [
      fetch(`${stack.baseUrl}/v1/tokens`, {
        method: 'POST',
        headers: { ...bearer, 'content-type': 'application/json' },
        body: '{"scope":"watch"}',
      }),
      fetch(`${stack.baseUrl}/v1/webhooks`, { headers: bearer }),
      fetch(`${stack.baseUrl}/v1/channels/main/live`, { method: 'POST', headers: bearer }),
      fetch(`${stack.baseUrl}/v1/videos?token=${token}`),
      fetch(`${stack.baseUrl}/v1/notifications?token=${token}`),
    ];
    for (const res of await Promise.all(refused)) {
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    // A watch token is not an upload token.
    expect((await postClip({ headers: bearer })).status).toBe(403);
  });

  it('a playback token reaches its own video only', async () => {
    const upload = await postClip({ headers: keyHeader() });
    const { id } = (await upload.json()) as { id: string };
    const otherRes = await postClip({ headers: keyHeader() });
    const other = ((await otherRes.json()) as { id: string }).id;
    const { token } = await issue({ scope: 'playback', videoId: id });
    expect((await fetch(`${stack.baseUrl}/v1/videos/${id}?token=${token}`)).status).toBe(200);
    // Not ready yet: the token got through to the route, which says why there is nothing to play.
    expect((await fetch(`${stack.baseUrl}/v1/videos/${id}/outputs/360p?token=${token}`)).status).toBe(409);
    expect((await fetch(`${stack.baseUrl}/v1/videos/${other}?token=${token}`)).status).toBe(403);
    expect(
      (await fetch(`${stack.baseUrl}/v1/videos/${other}/outputs/360p`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(403);
    // Another tenant cannot mint a token for acme's video.
    const foreign = await fetch(`${stack.baseUrl}/v1/tokens`, {
      method: 'POST',
      headers: { ...keyHeader(OTHER), 'content-type': 'application/json' },
      body: JSON.stringify({ scope: 'playback', videoId: id }),
    });
    expect(foreign.status).toBe(404);
  });

  it('a playback token does not download the original upload (issue #23: GET …/source?token= was a 302)', async () => {
    const { id } = (await (await postClip({ headers: keyHeader() })).json()) as { id: string };
    const { token } = await issue({ scope: 'playback', videoId: id });
    for (const path of [`/v1/videos/${id}/source?token=${token}`, `/v1/videos/${id}/source/?token=${token}`]) {
      const res = await fetch(`${stack.baseUrl}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(403);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    const bearer = await fetch(`${stack.baseUrl}/v1/videos/${id}/source`, {
      redirect: 'manual',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bearer.status).toBe(403);
    // The key still reaches it; the token still reaches the status.
    expect((await fetch(`${stack.baseUrl}/v1/videos/${id}/source`, { redirect: 'manual', headers: keyHeader() })).status).toBe(302);
    expect((await fetch(`${stack.baseUrl}/v1/videos/${id}?token=${token}`)).status).toBe(200);
  });

  it("a watch token for one channel streams that channel's events only; asking for another is a 403", async () => {
    const live = (method: string) => fetch(`${stack.baseUrl}/v1/channels/cam-1/live`, { method, headers: keyHeader() });
    expect((await live('POST')).status).toBe(201);
    const { token } = await issue({ scope: 'watch', channelId: 'cam-1' });
    const narrow = await SseClient.connect(`${stack.baseUrl}/v1/events?token=${token}`);
    const wide = await SseClient.connect(`${stack.baseUrl}/v1/events`, {
      headers: { authorization: `Bearer ${(await issue({ scope: 'watch' })).token}` },
    });
    try {
      const { id } = (await (await postClip({ headers: keyHeader() })).json()) as { id: string };
      await wide.waitFor('the unrelated upload', (e) => e.id === `video.queued:${id}`);
      // The hub had the unrelated event before live.ended: had the narrow stream let it through, it would come first.
      expect((await live('DELETE')).status).toBe(200);
      await narrow.waitFor('live.ended', (e) => e.event === 'live.ended');
      // (/v1/events replays only after Last-Event-ID, so live.started, published before the connection, is not here.)
      expect(narrow.events.map((e) => e.event)).toEqual(['live.ended']);
      expect(narrow.events.every((e) => (JSON.parse(e.data) as ReelayEvent).subject === 'cam-1')).toBe(true);
    } finally {
      await narrow.close();
      await wide.close();
    }
    const other = await fetch(`${stack.baseUrl}/v1/events?token=${token}&channelId=cam-2`);
    expect(other.status).toBe(403);
  });

  it('expired, tampered and foreign tokens are 401 problem+json', async () => {
    const { token } = await issue({ scope: 'watch', ttlSeconds: 1 });
    const [head, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, sub: 'globex' })).toString('base64url')}.${signature}`;
    const foreign = await new SignJWT({ scope: 'watch' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('reelay')
      .setAudience('reelay-api')
      .setSubject('acme')
      .setJti('x')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
    for (const bad of [forged, foreign, 'a.b.c']) {
      const res = await fetch(`${stack.baseUrl}/v1/events?token=${bad}`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/not valid/);
    }
    // Waiting for the clock to pass the token's `exp` (whole seconds; jose refuses a token once now >= exp).
    await waitFor('the token to expire', () => Math.floor(Date.now() / 1000) >= Number(claims.exp) || undefined, 5000);
    const expired = await fetch(`${stack.baseUrl}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { detail: string }).detail).toMatch(/expired/);
  });

  it('bad token requests are 400s', async () => {
    for (const body of [
      { scope: 'admin' },
      { scope: 'playback' },
      { scope: 'watch', ttlSeconds: 86_401 },
      { scope: 'watch', priority: 'high' },
    ]) {
      const res = await fetch(`${stack.baseUrl}/v1/tokens`, {
        method: 'POST',
        headers: { ...keyHeader(), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
    }
  });
});

describe('CORS', () => {
  it('answers preflights for the configured origin only, before authentication', async () => {
    const preflight = (origin: string) =>
      fetch(`${stack.baseUrl}/v1/videos`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const allowed = await preflight(ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const other = await preflight('http://evil.test');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${stack.baseUrl}/v1/videos`, { headers: { ...keyHeader(), origin: ORIGIN } });
    expect(get.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(get.headers.get('access-control-expose-headers')).toMatch(/location/);
  });

  it('provisioning puts the same origins on the raw bucket, exposing ETag for direct part uploads', async () => {
    // fauxqs accepts PutBucketCors but keeps nothing (GetBucketCors answers no rules; it sends no CORS headers
    // at all), so what can be checked here is the rule reelay sends; AWS and LocalStack apply it.
    const sent: unknown[] = [];
    const s3 = { send: async (command: { input: unknown }) => void sent.push(command.input) } as unknown as S3Client;
    await ensureUploadCors(s3, 'raw', [ORIGIN]);
    expect(sent).toEqual([
      {
        Bucket: 'raw',
        CORSConfiguration: {
          CORSRules: [
            expect.objectContaining({ AllowedOrigins: [ORIGIN], AllowedMethods: expect.arrayContaining(['PUT']), ExposeHeaders: ['ETag'] }),
          ],
        },
      },
    ]);
  });
});
