import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '../core/events.ts';
import { newVideoId } from '../core/ids.ts';
import { startApiInstance, type ApiInstance } from './support/api-instance.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';
import { WsClient } from './support/ws-client.ts';

/**
 * `GET /v1/ws` with two API instances against one emulator and a real
 * worker: A is the stack's API, B a second instance, as behind a load balancer.
 */
const KEY = 'k'.repeat(24);
const GLOBEX = 'globex:' + 'g'.repeat(24);
const CLIP = new URL('../samples/small-480p.mkv', import.meta.url);
let stack: TestStack;
let b: ApiInstance;
const open: WsClient[] = [];

const auth = (key = KEY) => ({ authorization: `Bearer ${key}` });

async function connect(base: string, query = '', headers: Record<string, string> = auth()): Promise<WsClient> {
  const client = await WsClient.connect(`${base}/v1/ws${query}`, headers);
  open.push(client);
  return client;
}

const uploadClip = (base: string, key = KEY) => upload(base, CLIP, { contentType: 'video/x-matroska', headers: auth(key) });

async function token(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${stack.baseUrl}/v1/tokens`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

beforeAll(async () => {
  stack = await startTestStack({ env: { REELAY_API_KEYS: `${KEY},${GLOBEX}`, REELAY_SSE_HEARTBEAT_SECONDS: '1' } });
  b = await startApiInstance(stack);
}, 60_000);
afterAll(async () => {
  for (const client of open) client.close();
  await b?.stop();
  await stack?.stop();
});

describe('GET /v1/ws', () => {
  it('a client on instance A receives queued → processing → playable → ready of an upload through instance B', async () => {
    const client = await connect(stack.baseUrl);
    client.send({ type: 'subscribe', all: true });
    await client.waitFor('the ack', () => client.messages.find((m) => m.type === 'subscribed'));
    const id = await uploadClip(b.baseUrl);
    await client.waitFor('video.ready', () => client.events.find((e) => e.id === `video.ready:${id}`), 60_000);
    // video.progress may come between processing and ready (at most every 2 s of transcoding).
    const forVideo = client.events.filter((e) => e.subject === id && e.type !== 'video.progress');
    expect(forVideo.map((e) => e.type)).toEqual(['video.queued', 'video.processing', 'video.playable', 'video.ready']);
    expect(forVideo[3]).toMatchObject({
      specversion: '1.0',
      tenant: 'default',
      data: { videoId: id, outputs: { '360p': { height: 360 } } },
    });
  }, 90_000);

  it('subscribe / unsubscribe per video, with acks; a malformed message gets an error, not a dropped connection', async () => {
    const client = await connect(b.baseUrl);
    const [v1, v2] = [newVideoId(), newVideoId()];
    client.send({ type: 'subscribe', videoId: v1 });
    client.send({ type: 'subscribe', nonsense: 1 });
    await client.waitFor('two answers', () => client.messages.length >= 2 || undefined);
    expect(client.messages).toEqual([{ type: 'subscribed', videoId: v1 }, expect.objectContaining({ type: 'error' })]);
    const hub = b.features.deps.realtime.hub;
    const processing = (videoId: string, attempt: number) =>
      makeEvent(
        'video.processing',
        { videoId, priority: 'normal', attempt },
        { id: `video.processing:${videoId}:${attempt}`, source: '/test', subject: videoId, tenant: 'default' },
      );
    hub.add(processing(v2, 1));
    hub.add(processing(v1, 1));
    await client.waitFor('v1 attempt 1', () => client.events.find((e) => e.id === processing(v1, 1).id));
    client.send({ type: 'unsubscribe', videoId: v1 });
    await client.waitFor('unsubscribed', () => client.messages.find((m) => m.type === 'unsubscribed'));
    client.send({ type: 'subscribe', videoId: v2 });
    await client.waitFor('subscribed v2', () => client.messages.find((m) => m.type === 'subscribed' && m.videoId === v2));
    hub.add(processing(v1, 2));
    hub.add(processing(v2, 2));
    await client.waitFor('v2 attempt 2', () => client.events.find((e) => e.id === processing(v2, 2).id));
    // v2's attempt 1 came back as the replay of the buffer on subscribing; v1's attempt 2 came after the unsubscribe.
    expect(client.events.map((e) => e.id)).toEqual([processing(v1, 1).id, processing(v2, 1).id, processing(v2, 2).id]);
  });

  it('honours tenants and watch tokens', async () => {
    const video = await uploadClip(stack.baseUrl);
    const watch = await token({ scope: 'watch', videoId: video });
    const narrow = await connect(stack.baseUrl, `?token=${watch}`, {});
    narrow.send({ type: 'subscribe', videoId: newVideoId() });
    narrow.send({ type: 'subscribe', all: true });
    await narrow.waitFor('three answers', () => narrow.messages.filter((m) => !m.specversion).length >= 3 || undefined);
    // A token for one video subscribes to it at once; another video is out of its reach; "all" is all of it.
    expect(narrow.messages.filter((m) => !m.specversion)).toEqual([
      { type: 'subscribed', videoId: video },
      expect.objectContaining({ type: 'error', message: expect.stringMatching(/does not reach/) }),
      { type: 'subscribed', all: true },
    ]);
    const globex = await connect(stack.baseUrl, '', auth(GLOBEX.slice(7)));
    globex.send({ type: 'subscribe', all: true });
    await globex.waitFor('ack', () => globex.messages.find((m) => m.type === 'subscribed'));

    const other = await uploadClip(stack.baseUrl);
    const own = await uploadClip(stack.baseUrl, GLOBEX.slice(7));
    // globex's own upload comes after both default uploads, through the same hub: once it is here, theirs would be too.
    await globex.waitFor('globex queued', () => globex.events.find((e) => e.id === `video.queued:${own}`));
    expect(globex.events.map((e) => e.subject)).toEqual([own]);
    await narrow.waitFor('the watched video ready', () => narrow.events.find((e) => e.id === `video.ready:${video}`), 60_000);
    expect(narrow.events.every((e) => e.subject === video)).toBe(true);
    expect(narrow.events.some((e) => e.subject === other)).toBe(false);

    // A token of another scope, or none at all, is refused before the upgrade.
    await expect(WsClient.connect(`${stack.baseUrl}/v1/ws?token=${await token({ scope: 'upload' })}`)).rejects.toMatchObject({
      status: 403,
    });
    await expect(WsClient.connect(`${stack.baseUrl}/v1/ws`)).rejects.toMatchObject({ status: 401 });
    await expect(WsClient.connect(`${stack.baseUrl}/v1/ws?videoId=nope`, auth())).rejects.toMatchObject({ status: 400 });
  }, 90_000);

  it('pings every heartbeat; a client that cannot keep up is closed with 1013', async () => {
    const client = await connect(b.baseUrl, '');
    await client.waitFor('two pings', () => client.pings >= 2 || undefined, 5000);
    client.send({ type: 'subscribe', all: true });
    await client.waitFor('ack', () => client.messages.find((m) => m.type === 'subscribed'));
    // The client stops reading; the server keeps getting events (a burst of 20,000, ~8 MB).
    (client.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const hub = b.features.deps.realtime.hub;
    const video = newVideoId();
    for (let attempt = 1; attempt <= 20_000; attempt++) {
      hub.add(
        makeEvent(
          'video.processing',
          { videoId: video, priority: 'normal', attempt },
          { id: `flood:${video}:${attempt}`, source: '/test', subject: video, tenant: 'default' },
        ),
      );
    }
    (client.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    await client.waitFor('the close', () => client.closeCode, 20_000);
    expect(client.closeCode).toBe(1013);
    expect(client.events.length).toBeLessThan(20_000);
  }, 30_000);
});
