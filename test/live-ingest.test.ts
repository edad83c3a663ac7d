import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventTap } from './support/event-tap.ts';
import { spawnRole, type RoleProcess } from './support/role-process.ts';
import { WebhookReceiver } from './support/webhook-receiver.ts';
import { WsClient } from './support/ws-client.ts';
import { publishTestPattern, startTestLiveIngest } from './support/live.ts';
import { startTestStack, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';
import type { RunningLiveIngest } from '../workers/live/live-ingest.ts';

/**
 * The live ingest end to end against the real emulator and real ffmpeg, through the API as a client sees it
 * (API keys on): a channel made with POST /v1/channels; ffmpeg publishes a test pattern to `ingest.rtmp` +
 * "/" + `streamKey`; the ingest checks the key, publishes live.started from the stream and writes a live HLS
 * ladder to S3 as segments finish, which the API serves with a playback token; once the publisher stops and
 * the grace window passes, live.ended, and the recording, queued at high, becomes a ready video.
 */
const API_KEY = 'live-test-key-0123456789abcdef';
const auth = { authorization: `Bearer ${API_KEY}` };
let stack: TestStack;
let tap: EventTap;
let ingest: RunningLiveIngest & { url: string };
let receiver: WebhookReceiver;
let dispatcher: RoleProcess;

beforeAll(async () => {
  stack = await startTestStack({ env: { REELAY_WEBHOOK_ALLOW_PRIVATE: 'true', REELAY_API_KEYS: API_KEY } });
  receiver = await new WebhookReceiver().start();
  // The webhook dispatcher as its own process, as it runs in the stack.
  dispatcher = spawnRole(stack, 'workers/webhooks/main.ts', {
    REELAY_WEBHOOK_ALLOW_PRIVATE: 'true',
    REELAY_SECRETS_KEY: stack.config.secretsKey!.toString('hex'),
    REELAY_WEBHOOKS_METRICS_PORT: '0',
  });
  tap = await EventTap.start(stack.clients, {
    name: `${stack.config.prefix}-tap-ingest`,
    topicArns: [stack.resources.videoTopicArn, stack.resources.liveTopicArn],
  });
  ingest = await startTestLiveIngest(stack);
});
afterAll(async () => {
  dispatcher?.child.kill('SIGTERM');
  await dispatcher?.exited;
  await receiver?.stop();
  await ingest?.stop();
  await tap?.stop();
  await stack?.stop();
});

describe('live ingest', () => {
  it('a stream with a valid key is live within 2 s of its first keyframe, plays as a ladder, and its recording becomes a ready video', async () => {
    const created = await fetch(`${stack.baseUrl}/v1/channels`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'studio-a', name: 'Studio A' }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const channel = (await created.json()) as { id: string; streamKey: string; ingest: { rtmp: string } };
    expect(channel).toMatchObject({ id: 'studio-a', name: 'Studio A', status: 'offline', streamKey: expect.stringMatching(/^sk_/) });
    expect(channel.ingest.rtmp).toMatch(/^rtmp:\/\/.+\/live$/);
    const hook = await fetch(`${stack.baseUrl}/v1/webhooks`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${receiver.url}/live`, events: ['live.started', 'live.ended'] }),
    });
    expect(hook.status).toBe(201);
    const ws = await WsClient.connect(`${stack.baseUrl}/v1/ws?channelId=studio-a`, auth);
    const publishedAt = Date.now();
    // The publish URL as a client builds it, on this test's ingest port.
    const publisher = publishTestPattern(`${ingest.url}/${channel.streamKey}`, { seconds: 8 });

    const started = await tap.waitFor('live.started', (e) => e.type === 'live.started' && e.subject === 'studio-a');
    // The first keyframe is the first frame ffmpeg sends; the event is on SNS well within 2 s of it.
    expect(Date.parse(started.time) - publishedAt).toBeLessThan(2000 + 1500);
    expect(started).toMatchObject({ source: '/reelay/live', data: { channelId: 'studio-a', title: 'Studio A' } });
    const sessionId = (started.data as { sessionId: string }).sessionId;
    const state = (await (await fetch(`${stack.baseUrl}/v1/channels/studio-a/live`, { headers: auth })).json()) as Record<string, any>;
    expect(state).toMatchObject({
      status: 'live',
      session: { sessionId, origin: 'ingest' },
      links: { hls: '/v1/channels/studio-a/live/master.m3u8' },
    });

    // Played as a browser would: a playback token for the channel, carried from playlist to playlist to segment.
    const minted = await fetch(`${stack.baseUrl}/v1/tokens`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ scope: 'playback', channelId: 'studio-a' }),
    });
    expect(minted.status).toBe(201);
    const { token } = (await minted.json()) as { token: string };
    const live = (file: string, query = `?token=${token}`) => fetch(`${stack.baseUrl}/v1/channels/studio-a/live/${file}${query}`);
    const master = await waitFor('the master playlist', async () => {
      const res = await live('master.m3u8');
      return res.status === 200 ? res.text() : undefined;
    });
    expect(master).toContain('RESOLUTION=1280x720');
    expect(master).toContain('RESOLUTION=640x360');
    expect(master).toMatch(/CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    expect(master).toContain(`720p/index.m3u8?token=${token}`);
    const top = await waitFor('three segments of 720p', async () => {
      const res = await live('720p/index.m3u8');
      const text = res.status === 200 ? await res.text() : '';
      return (text.match(/\.m4s/g) ?? []).length >= 3 ? { text, cacheControl: res.headers.get('cache-control') } : undefined;
    });
    expect(top.cacheControl).toBe('no-cache');
    expect(top.text).toContain(`#EXT-X-MAP:URI="init-1.mp4?token=${token}"`);
    expect(top.text).not.toContain('#EXT-X-ENDLIST');
    for (const d of [...top.text.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]))) expect(d).toBeLessThanOrEqual(2.1);
    const segment = /^(\d+\.m4s)\?token=/m.exec(top.text)![1]!;
    const bytes = await live(`720p/${segment}`);
    expect(bytes.status).toBe(200);
    expect(bytes.headers.get('content-type')).toBe('video/iso.segment');
    expect((await bytes.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    expect((await live(`720p/${segment}`, '')).status).toBe(401);
    const other = (await (
      await fetch(`${stack.baseUrl}/v1/tokens`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ scope: 'playback', channelId: 'studio-b' }),
      })
    ).json()) as { token: string };
    expect((await live('master.m3u8', `?token=${other.token}`)).status).toBe(403);

    expect(await publisher.exited).toBe(0);
    const ended = await tap.waitFor('live.ended', (e) => e.id === `live.ended:studio-a:${sessionId}`, 30_000);
    expect(ended.data).toEqual({ channelId: 'studio-a', sessionId });
    const queued = await tap.waitFor(
      'the recording queued',
      (e) => e.type === 'video.queued' && (e.data as { channelId?: string }).channelId === 'studio-a',
    );
    expect(queued.data).toMatchObject({ priority: 'high', channelId: 'studio-a', sessionId });
    const video = await waitForFinalStatus(stack.baseUrl, (queued.data as { videoId: string }).videoId, 90_000, auth);
    expect(video).toMatchObject({ status: 'ready', priority: 'high', channelId: 'studio-a' });
    expect(video.source.duration).toBeGreaterThan(6);
    expect(video.source.duration).toBeLessThan(10);
    expect(Object.keys(video.outputs)).toEqual(expect.arrayContaining(['360p', '720p', 'thumbnail']));
    expect(video.sessionId).toBe(sessionId);
    const listed = (await (await fetch(`${stack.baseUrl}/v1/videos?channelId=studio-a`, { headers: auth })).json()) as {
      items: { id: string }[];
    };
    expect(listed.items.map((v) => v.id)).toEqual([video.id]);
    // Offline now: no live presentation.
    expect((await live('master.m3u8')).status).toBe(404);
    // The same two events through the WebSocket and a webhook.
    const wsEvents = () => ws.messages.filter((m) => m.specversion).map((m) => m.id as string);
    await ws.waitFor('live.ended on the WebSocket', () => wsEvents().includes(ended.id) || undefined);
    expect(wsEvents().filter((id) => id.startsWith('live.'))).toEqual([started.id, ended.id]);
    ws.close();
    await waitFor('both webhooks', () => (receiver.requests('/live').length >= 2 ? true : undefined), 30_000);
    expect(receiver.requests('/live').map((r) => r.headers['webhook-id'])).toEqual([started.id, ended.id]);

    await tap.drained();
    expect(tap.ids('live.started').filter((id) => id.includes(sessionId))).toHaveLength(1);
    expect(tap.ids('live.ended').filter((id) => id.includes(sessionId))).toHaveLength(1);
  }, 120_000);
});
