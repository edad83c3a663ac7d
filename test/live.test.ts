import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventTap } from './support/event-tap.ts';
import { startTestStack, waitFor, type TestStack } from './support/stack.ts';
import { postVideo } from './support/upload.ts';

/**
 * Live channels through the real API and emulator: start/end publish
 * `live.started`/`live.ended` once per session, repeats are idempotent, and a
 * recording uploaded with the channel id is queued at `high`. No worker runs.
 */
let stack: TestStack;
let tap: EventTap;

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
  const { videoTopicArn, liveTopicArn } = stack.resources;
  tap = await EventTap.start(stack.clients, { name: `${stack.config.prefix}-tap-live`, topicArns: [videoTopicArn, liveTopicArn] });
});
afterAll(async () => {
  await tap?.stop();
  await stack?.stop();
});

const live = (channel: string, init: RequestInit = {}) => fetch(`${stack.baseUrl}/v1/channels/${channel}/live`, init);
const startLive = (channel: string, body?: unknown) =>
  live(channel, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });

async function expectProblem(res: Response, status: number, detail: RegExp): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(((await res.json()) as { detail: string }).detail).toMatch(detail);
}

describe('live channels', () => {
  it('start publishes live.started once; a repeated start returns the same session and publishes nothing', async () => {
    const first = await startLive('studio-1', { title: 'Morning show' });
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe('/v1/channels/studio-1/live');
    const started = (await first.json()) as { status: string; session: { sessionId: string; title: string; startedAt: string } };
    expect(started).toMatchObject({ channelId: 'studio-1', status: 'live', session: { title: 'Morning show' }, sessionCount: 1 });
    const { sessionId } = started.session;

    const again = await startLive('studio-1', { title: 'Another title' });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'live', session: { sessionId, title: 'Morning show' } });
    const bare = await startLive('studio-1');
    expect(bare.status).toBe(200);

    expect(await (await live('studio-1')).json()).toMatchObject({ status: 'live', session: { sessionId } });

    const ended = await live('studio-1', { method: 'DELETE' });
    expect(ended.status).toBe(200);
    expect(await ended.json()).toMatchObject({ status: 'offline', lastSession: { sessionId, endedAt: expect.any(String) } });
    const endedAgain = await live('studio-1', { method: 'DELETE' });
    expect(endedAgain.status).toBe(200);
    expect(await endedAgain.json()).toMatchObject({ status: 'offline', lastSession: { sessionId } });

    await tap.waitFor('live.ended', (e) => e.id === `live.ended:studio-1:${sessionId}`);
    // Every request above has returned, its publishes with it: once the tap's queue is empty, a duplicate
    // would already be in tap.events().
    await tap.drained();
    const forChannel = tap.events().filter((e) => e.subject === 'studio-1');
    expect(forChannel.map((e) => e.id)).toEqual([`live.started:studio-1:${sessionId}`, `live.ended:studio-1:${sessionId}`]);
    expect(forChannel[0]).toMatchObject({
      type: 'live.started',
      source: '/reelay/api',
      data: { channelId: 'studio-1', sessionId, title: 'Morning show' },
    });
    expect(forChannel[1]).toMatchObject({ type: 'live.ended', data: { channelId: 'studio-1', sessionId } });
    expect(tap.errors).toEqual([]);
  });

  it('a new start after the end is a new session with its own events', async () => {
    const first = (await (await startLive('studio-2')).json()) as { session: { sessionId: string } };
    await live('studio-2', { method: 'DELETE' });
    const second = await startLive('studio-2');
    expect(second.status).toBe(201);
    const body = (await second.json()) as { session: { sessionId: string }; sessionCount: number };
    expect(body.session.sessionId).not.toBe(first.session.sessionId);
    expect(body.sessionCount).toBe(2);
    await tap.waitFor('the second live.started', (e) => e.id === `live.started:studio-2:${body.session.sessionId}`);
  });

  it('an unknown channel reads as offline, and ending it publishes nothing', async () => {
    expect(await (await live('never-live')).json()).toMatchObject({ channelId: 'never-live', status: 'offline', sessionCount: 0 });
    const res = await live('never-live', { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'offline' });
  });

  it('rejects bad channel ids and bad bodies with problem+json', async () => {
    await expectProblem(await startLive('bad%20id'), 400, /channel id "bad id" is invalid/);
    await expectProblem(await live('x'.repeat(65)), 400, /is invalid/);
    await expectProblem(await startLive('ok-channel', { title: 'x', extra: 1 }), 400, /Unrecognized key.*extra/);
    await expectProblem(await startLive('ok-channel', ['title']), 400, /invalid body/);
    await expectProblem(await startLive('ok-channel', { title: 'x'.repeat(201) }), 400, /title: is longer than 200 characters/);
    await expectProblem(
      await startLive('ok-channel', { title: 'a\u0007b' }),
      400,
      /title: contains a control or bidirectional-formatting character/,
    );
    await expectProblem(
      await live('ok-channel', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":' }),
      400,
      /not valid JSON/,
    );
    await expectProblem(
      await live('ok-channel', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'title' }),
      415,
      /application\/json/,
    );
    // Nothing was started by any of them.
    expect(await (await live('ok-channel')).json()).toMatchObject({ status: 'offline' });
  });
});

describe('uploads of live recordings', () => {
  const clip = new Uint8Array(2048).fill(1);

  it('an upload with the channel id of a channel that has been live is queued at high and records the channel', async () => {
    await startLive('rec-channel');
    const res = await postVideo(stack.baseUrl, clip, { params: { channelId: 'rec-channel' } });
    expect(res.status).toBe(202);
    const video = (await res.json()) as { id: string; priority: string; channelId: string };
    expect(video).toMatchObject({ priority: 'high', channelId: 'rec-channel' });
    expect(await (await fetch(`${stack.baseUrl}/v1/videos/${video.id}`)).json()).toMatchObject({
      channelId: 'rec-channel',
      priority: 'high',
    });

    const queued = await tap.waitFor('video.queued', (e) => e.id === `video.queued:${video.id}`);
    expect(queued.data).toMatchObject({ channelId: 'rec-channel', priority: 'high' });
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.resources.tierQueueUrl.high,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 1,
      }),
    );
    expect(Messages.map((m) => JSON.parse(m.Body!).videoId)).toContain(video.id);
  });

  it('as a multipart field too; an explicit priority still wins', async () => {
    await startLive('rec-form');
    const res = await postVideo(stack.baseUrl, clip, { params: { channelId: 'rec-form' }, multipart: { filename: 'rec.mp4' } });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ priority: 'high', channelId: 'rec-form' });

    const low = await postVideo(stack.baseUrl, clip, { params: { channelId: 'rec-form', priority: 'low' } });
    expect(await low.json()).toMatchObject({ priority: 'low', channelId: 'rec-form' });
  });

  it('a channel that was never live, or a malformed channel id, is a 400', async () => {
    const withChannel = (channelId: string) => postVideo(stack.baseUrl, clip, { params: { channelId } });
    await expectProblem(await withChannel('ghost-channel'), 400, /channel ghost-channel has never been live/);
    await expectProblem(await withChannel('no spaces'), 400, /channel id "no spaces" is invalid/);
    // A channelId sent after the file part is checked too.
    const afterFile = { filename: 'rec.mp4', fieldsAfterFile: { channelId: 'ghost-form' } };
    await expectProblem(await postVideo(stack.baseUrl, clip, { multipart: afterFile }), 400, /ghost-form has never been live/);
  });

  it('the API instance’s notification list shows the live events', async () => {
    // Its own channel: this test does not lean on the events of another test.
    await startLive('notif-1');
    await live('notif-1', { method: 'DELETE' });
    const list = await waitFor('live events in /v1/notifications', async () => {
      const body = (await (await fetch(`${stack.baseUrl}/v1/notifications?channelId=notif-1`)).json()) as { items: { type: string }[] };
      return body.items.length >= 2 ? body : undefined;
    });
    expect(list.items.map((e) => e.type)).toEqual(['live.ended', 'live.started']);
    const res = await fetch(`${stack.baseUrl}/v1/notifications?limit=0`);
    await expectProblem(res, 400, /limit must be/);
  });
});
