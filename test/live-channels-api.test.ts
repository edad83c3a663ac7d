import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamKeyHash } from '../core/live/stream-keys.ts';
import { EventTap } from './support/event-tap.ts';
import { publishTestPattern, startTestLiveIngest } from './support/live.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import type { RunningLiveIngest } from '../workers/live/live-ingest.ts';

/**
 * Channels and stream keys through the API (POST /v1/channels, GET /v1/channels, POST …/stream-key) against the
 * real emulator: keys shown once and stored only as hashes, a replaced key refused by the real ingest at once
 * while the new one publishes, bad requests answered with problem+json.
 */
let stack: TestStack;
let tap: EventTap;
let ingest: RunningLiveIngest & { url: string };
const refused: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false, env: { REELAY_LIVE_RTMP_URL: 'rtmp://ingest.example.com:1935/live' } });
  tap = await EventTap.start(stack.clients, { name: `${stack.config.prefix}-tap-channels`, topicArns: [stack.resources.liveTopicArn] });
  ingest = await startTestLiveIngest(stack, { hooks: { onRefused: (reason) => refused.push(reason) } });
});
afterAll(async () => {
  await ingest?.stop();
  await tap?.stop();
  await stack?.stop();
});

const api = (path: string, init: RequestInit & { json?: unknown } = {}) =>
  fetch(`${stack.baseUrl}${path}`, {
    ...init,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json), headers: { 'content-type': 'application/json' } } : {}),
  });

async function expectProblem(res: Response, status: number, detail: RegExp): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(((await res.json()) as { detail: string }).detail).toMatch(detail);
}

describe('channels and stream keys', () => {
  it('POST /v1/channels makes a channel with a key shown once and stored only as its hash', async () => {
    const res = await api('/v1/channels', { method: 'POST', json: { name: 'Morning show' } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, any>;
    expect(body).toMatchObject({
      id: expect.stringMatching(/^ch_[0-9A-Z]{26}$/),
      name: 'Morning show',
      status: 'offline',
      streamKey: expect.stringMatching(/^sk_[A-Za-z0-9_-]{43}$/),
      ingest: { rtmp: 'rtmp://ingest.example.com:1935/live' },
    });
    expect(res.headers.get('location')).toBe(`/v1/channels/${body.id}/live`);
    // Never shown again, and not stored as it is.
    const shown = (await (await api(`/v1/channels/${body.id}/live`)).json()) as Record<string, unknown>;
    expect(JSON.stringify(shown)).not.toContain(body.streamKey);
    expect(shown.streamKey).toEqual({ createdAt: expect.any(String) });
    const stored = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.resources.names.mediaBucket, Key: `channels/${body.id}.json` }),
    );
    const text = await stored.Body!.transformToString();
    expect(text).not.toContain(body.streamKey);
    expect(text).toContain(streamKeyHash(body.streamKey));
    const list = (await (await api('/v1/channels')).json()) as { items: { id: string; name?: string }[] };
    expect(list.items).toContainEqual(expect.objectContaining({ id: body.id, name: 'Morning show' }));
  });

  it('a chosen id; taken twice is 409; bad bodies are 400', async () => {
    expect((await api('/v1/channels', { method: 'POST', json: { id: 'studio-x' } })).status).toBe(201);
    await expectProblem(await api('/v1/channels', { method: 'POST', json: { id: 'studio-x' } }), 409, /exists/);
    await expectProblem(await api('/v1/channels', { method: 'POST', json: { id: 'bad id!' } }), 400, /id/);
    await expectProblem(await api('/v1/channels', { method: 'POST', json: { name: 'x', extra: 1 } }), 400, /Unrecognized key/);
    await expectProblem(await api('/v1/channels', { method: 'POST', json: { name: 'a\u0007b' } }), 400, /control/);
    await expectProblem(await api('/v1/channels/nope/stream-key', { method: 'POST' }), 404, /no channel nope/);
  });

  it('a replaced key is refused by the ingest at once; the new key publishes', async () => {
    const first = (await (await api('/v1/channels', { method: 'POST', json: { id: 'rotating' } })).json()) as { streamKey: string };
    const rotated = await api('/v1/channels/rotating/stream-key', { method: 'POST' });
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    const second = (await rotated.json()) as { id: string; streamKey: string; ingest: { rtmp: string } };
    expect(second).toMatchObject({ id: 'rotating', ingest: { rtmp: expect.any(String) } });
    expect(second.streamKey).not.toBe(first.streamKey);

    const old = publishTestPattern(`${ingest.url}/${first.streamKey}`, { seconds: 3, size: '320x240' });
    expect(await old.exited).not.toBe(0);
    expect(old.stderr()).toMatch(/stream key is not valid/);
    expect(refused).toContain('bad_key');

    const current = publishTestPattern(`${ingest.url}/${second.streamKey}`, { seconds: 3, size: '320x240' });
    await tap.waitFor('live.started', (e) => e.type === 'live.started' && e.subject === 'rotating');
    expect(await current.exited).toBe(0);
  }, 30_000);

  it('a channel started by hand has no live presentation; the manual start and end still work', async () => {
    expect((await api('/v1/channels/by-hand/live', { method: 'POST' })).status).toBe(201);
    await expectProblem(await api('/v1/channels/by-hand/live/master.m3u8'), 404, /not on reelay's ingest/);
    expect((await api('/v1/channels/by-hand/live', { method: 'DELETE' })).status).toBe(200);
    await expectProblem(await api('/v1/channels/by-hand/live/master.m3u8'), 404, /not live/);
    await expectProblem(await api('/v1/channels/never/live/..%2F..%2Fsecret.m3u8'), 404, /not live|no file/);
  });
});
