import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventTap } from './support/event-tap.ts';
import { spawnRole, type RoleProcess } from './support/role-process.ts';
import { WebhookReceiver } from './support/webhook-receiver.ts';
import { WsClient } from './support/ws-client.ts';
import { createTestChannel, publishTestPattern, readLiveFile, startTestLiveIngest } from './support/live.ts';
import { startTestStack, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';
import type { RunningLiveIngest } from '../workers/live/live-ingest.ts';

/**
 * The live ingest end to end against the real emulator and real ffmpeg: ffmpeg publishes a test pattern over
 * RTMP with a channel's stream key; the ingest checks the key, publishes live.started from the stream, writes a
 * live HLS ladder to S3 as segments finish, and after the publisher stops and the grace window passes publishes
 * live.ended and queues the recording, which a real worker turns into a ready video.
 */
let stack: TestStack;
let tap: EventTap;
let ingest: RunningLiveIngest & { url: string };
let receiver: WebhookReceiver;
let dispatcher: RoleProcess;

beforeAll(async () => {
  stack = await startTestStack({ env: { REELAY_WEBHOOK_ALLOW_PRIVATE: 'true' } });
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
    const key = await createTestChannel(stack, 'studio-a');
    const hook = await fetch(`${stack.baseUrl}/v1/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${receiver.url}/live`, events: ['live.started', 'live.ended'] }),
    });
    expect(hook.status).toBe(201);
    const ws = await WsClient.connect(`${stack.baseUrl}/v1/ws?channelId=studio-a`);
    const publishedAt = Date.now();
    const publisher = publishTestPattern(`${ingest.url}/${key}`, { seconds: 8 });

    const started = await tap.waitFor('live.started', (e) => e.type === 'live.started' && e.subject === 'studio-a');
    // The first keyframe is the first frame ffmpeg sends; the event is on SNS well within 2 s of it.
    expect(Date.parse(started.time) - publishedAt).toBeLessThan(2000 + 1500);
    expect(started.source).toBe('/reelay/live');
    const sessionId = (started.data as { sessionId: string }).sessionId;

    const master = await waitFor('the master playlist', () => readLiveFile(stack, 'studio-a', sessionId, 'master.m3u8'));
    expect(master).toContain('RESOLUTION=1280x720');
    expect(master).toContain('RESOLUTION=640x360');
    expect(master).toMatch(/CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    const top = await waitFor('three segments of 720p', async () => {
      const text = await readLiveFile(stack, 'studio-a', sessionId, '720p/index.m3u8');
      return text && (text.match(/\.m4s/g) ?? []).length >= 3 ? text : undefined;
    });
    expect(top).toContain('#EXT-X-MAP:URI="init-1.mp4"');
    expect(top).not.toContain('#EXT-X-ENDLIST');
    for (const d of [...top.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]))) expect(d).toBeLessThanOrEqual(2.1);

    expect(await publisher.exited).toBe(0);
    const ended = await tap.waitFor('live.ended', (e) => e.id === `live.ended:studio-a:${sessionId}`, 30_000);
    expect(ended.data).toEqual({ channelId: 'studio-a', sessionId });
    const queued = await tap.waitFor(
      'the recording queued',
      (e) => e.type === 'video.queued' && (e.data as { channelId?: string }).channelId === 'studio-a',
    );
    expect(queued.data).toMatchObject({ priority: 'high', channelId: 'studio-a', sessionId });
    const video = await waitForFinalStatus(stack.baseUrl, (queued.data as { videoId: string }).videoId, 90_000);
    expect(video).toMatchObject({ status: 'ready', priority: 'high', channelId: 'studio-a' });
    expect(video.source.duration).toBeGreaterThan(6);
    expect(video.source.duration).toBeLessThan(10);
    expect(Object.keys(video.outputs)).toEqual(expect.arrayContaining(['360p', '720p', 'thumbnail']));
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
