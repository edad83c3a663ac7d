import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../core/events.ts';
import { EventTap } from './support/event-tap.ts';
import { startTestStack, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';

/**
 * What subscribers actually receive through SNS → SQS, with the real API and
 * worker: every event of every type is a valid CloudEvent whose SNS `type`
 * attribute matches, and filter policies keep other types out.
 */
const samples = path.resolve(import.meta.dirname, '../samples');
let stack: TestStack;
let all: EventTap;
let failedOnly: EventTap;

beforeAll(async () => {
  stack = await startTestStack();
  const { videoTopicArn, liveTopicArn } = stack.resources;
  const topicArns = [videoTopicArn, liveTopicArn];
  [all, failedOnly] = await Promise.all([
    EventTap.start(stack.clients, { name: `${stack.config.prefix}-tap-all`, topicArns }),
    EventTap.start(stack.clients, { name: `${stack.config.prefix}-tap-failed`, topicArns, eventTypes: ['video.failed'] }),
  ]);
});
afterAll(async () => {
  await all?.stop();
  await failedOnly?.stop();
  await stack?.stop();
});

describe('published events (real emulator, real worker)', () => {
  it('every type arrives as a valid CloudEvent with a matching SNS type attribute; a video.failed-only subscriber gets only that', async () => {
    const high = { params: { priority: 'high' } };
    const good = await upload(stack.baseUrl, path.join(samples, 'landscape-720p-audio.mp4'), {
      ...high,
      multipart: { filename: 'good.mp4' },
    });
    const text = new TextEncoder().encode('this is not a video at all, just text pretending to be one');
    const bad = await upload(stack.baseUrl, text, { ...high, multipart: { filename: 'bad.mp4' } });
    await fetch(`${stack.baseUrl}/v1/channels/events-test/live`, { method: 'POST' });
    await fetch(`${stack.baseUrl}/v1/channels/events-test/live`, { method: 'DELETE' });
    expect((await waitForFinalStatus(stack.baseUrl, good)).status).toBe('ready');
    expect((await waitForFinalStatus(stack.baseUrl, bad)).status).toBe('failed');

    await all.waitFor('video.ready', (e) => e.id === `video.ready:${good}`);
    await all.waitFor('video.failed', (e) => e.id === `video.failed:${bad}`);
    await all.waitFor('live.ended', (e) => e.type === 'live.ended');
    await failedOnly.waitFor('video.failed', (e) => e.id === `video.failed:${bad}`);
    // A caption track added to the ready video and removed again (#24).
    const added = await fetch(`${stack.baseUrl}/v1/videos/${good}/captions?language=en`, {
      method: 'POST',
      headers: { 'content-type': 'text/vtt' },
      body: 'WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n',
    });
    expect(added.status).toBe(201);
    const { id: captionId } = (await added.json()) as { id: string };
    expect((await fetch(`${stack.baseUrl}/v1/videos/${good}/captions/${captionId}`, { method: 'DELETE' })).status).toBe(204);
    await all.waitFor('video.captions.removed', (e) => e.type === 'video.captions.removed' && e.subject === good);
    // And the last one a video can have: deleted.
    expect((await fetch(`${stack.baseUrl}/v1/videos/${good}`, { method: 'DELETE' })).status).toBe(204);
    await all.waitFor('video.deleted', (e) => e.type === 'video.deleted' && e.subject === good);

    expect(all.errors).toEqual([]);
    // Every video and live event type (webhook.disabled comes from the dispatcher; webhooks.test.ts covers it), but
    // video.progress, which a clip this short may finish before the first one (2 s) is due, and live.failed, which
    // only a refused stream raises (live-ingest-refusals.test.ts covers it).
    expect(
      new Set(
        all
          .events()
          .map((e) => e.type)
          .filter((t) => t !== 'video.progress'),
      ),
    ).toEqual(new Set(EVENT_TYPES.filter((t) => !t.startsWith('webhook.') && t !== 'video.progress' && t !== 'live.failed')));
    for (const { envelope, event } of all.received) {
      expect(envelope.Type).toBe('Notification');
      expect(envelope.MessageAttributes?.type).toEqual({ Type: 'String', Value: event.type });
      expect(event).toMatchObject({ specversion: '1.0', datacontenttype: 'application/json', subject: expect.any(String) });
      expect(new Date(event.time).toISOString()).toBe(event.time);
    }
    expect(all.ids('video.ready')).toEqual([`video.ready:${good}`]);
    expect(all.events().find((e) => e.type === 'video.deleted')?.data).toMatchObject({ videoId: good });
    expect(all.events().find((e) => e.type === 'video.ready')?.data).toMatchObject({
      videoId: good,
      outputs: { '360p': { width: 640, height: 360 }, '720p': { width: 1280, height: 720 }, thumbnail: expect.any(Object) },
    });

    // The filtered subscriber: the failure, and nothing else, even after everything else arrived.
    expect(failedOnly.errors).toEqual([]);
    expect(failedOnly.events().map((e) => e.type)).toEqual(['video.failed']);
  });
});
