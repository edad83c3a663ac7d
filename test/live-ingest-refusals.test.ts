import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReelayEvent } from '../core/events.ts';
import { EventTap } from './support/event-tap.ts';
import {
  createTestChannel,
  flvTags,
  publishTags,
  publishTestPattern,
  readLiveFile,
  startTestLiveIngest,
  testPatternFlv,
  withoutKeyframes,
} from './support/live.ts';
import { startTestStack, waitFor, type TestStack } from './support/stack.ts';
import type { RunningLiveIngest } from '../workers/live/live-ingest.ts';

/**
 * What the live ingest refuses, and that a refusal costs nothing but the connection it came on: wrong keys,
 * a second publisher, stalled encoders, streams without keyframes or with unsupported codecs, and garbage on the
 * RTMP port. Real emulator, real ffmpeg on both sides; no worker (no recording is transcoded here).
 */
let stack: TestStack;
let tap: EventTap;
let ingest: RunningLiveIngest & { url: string };
const refused: string[] = [];
const failed: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
  tap = await EventTap.start(stack.clients, {
    name: `${stack.config.prefix}-tap-refusals`,
    topicArns: [stack.resources.videoTopicArn, stack.resources.liveTopicArn],
  });
  ingest = await startTestLiveIngest(stack, {
    live: { maxConnections: 16 },
    hooks: { onRefused: (reason) => refused.push(reason), onFailed: (code) => failed.push(code) },
  });
});
afterAll(async () => {
  await ingest?.stop();
  await tap?.stop();
  await stack?.stop();
});

const forChannel = (channelId: string, type?: string) =>
  tap.events().filter((e) => e.subject === channelId && (type === undefined || e.type === type));

async function objectsUnder(bucket: string, prefix: string): Promise<string[]> {
  const page = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!);
}

/** Resolves when the server closes the socket; the time it took, ms. */
function closedBy(socket: Socket): Promise<number> {
  const start = Date.now();
  return new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Date.now() - start));
    // Read what the server sends (its handshake), or its close is never seen.
    socket.resume();
  });
}

describe('publishes refused before any media', () => {
  it('a wrong key is refused with a reason the encoder shows; nothing is transcoded, nothing announced', async () => {
    await createTestChannel(stack, 'keyed');
    const wrong = publishTestPattern(`${ingest.url}/sk_${'A'.repeat(43)}`, { seconds: 3 });
    expect(await wrong.exited).not.toBe(0);
    expect(wrong.stderr()).toMatch(/stream key is not valid/);
    const garbled = publishTestPattern(`${ingest.url}/not-a-key`, { seconds: 3 });
    expect(await garbled.exited).not.toBe(0);
    expect(refused.filter((r) => r === 'bad_key')).toHaveLength(2);
    expect(ingest.streams).toBe(0);
    await tap.drained();
    expect(forChannel('keyed')).toEqual([]);
    expect(await objectsUnder(stack.resources.names.mediaBucket, 'live/')).toEqual([]);
    expect(await objectsUnder(stack.resources.names.mediaBucket, 'ingest-leases/')).toEqual([]);
  });

  it('a second publisher on a live channel is refused; the first keeps streaming', async () => {
    const key = await createTestChannel(stack, 'contested');
    const first = publishTestPattern(`${ingest.url}/${key}`, { seconds: 12, size: '640x360' });
    const started = await tap.waitFor('live.started', (e) => e.type === 'live.started' && e.subject === 'contested');
    const { sessionId } = started.data as { sessionId: string };
    const segments = async () => ((await readLiveFile(stack, 'contested', sessionId, '360p/index.m3u8')) ?? '').match(/^\d+\.m4s$/gm) ?? [];
    await waitFor('a first segment', async () => (await segments()).length >= 1 || undefined);

    const second = publishTestPattern(`${ingest.url}/${key}`, { seconds: 3, size: '640x360' });
    expect(await second.exited).not.toBe(0);
    expect(second.stderr()).toMatch(/already being published/);
    const atRefusal = (await segments()).length;
    await waitFor('the first publisher’s stream to go on', async () => (await segments()).length >= atRefusal + 2 || undefined);
    expect(await first.exited).toBe(0);
    expect(refused).toContain('busy');
    expect(forChannel('contested', 'live.started')).toHaveLength(1);
  }, 60_000);
});

describe('streams refused after the key was accepted: live.failed with a code and a sentence, encoder disconnected', () => {
  async function expectFailed(channelId: string, code: string, publisher: { exited: Promise<number | null> }): Promise<ReelayEvent> {
    const event = await tap.waitFor(`live.failed ${code}`, (e) => e.type === 'live.failed' && e.subject === channelId);
    expect(event.data).toMatchObject({ channelId, code, reason: expect.stringMatching(/^[a-z].{20,}$/) });
    expect(await publisher.exited).not.toBe(0);
    return event;
  }

  it('a stream that never sends a keyframe', async () => {
    const key = await createTestChannel(stack, 'no-keyframe');
    const ended = publishTags(`${ingest.url}/${key}`, withoutKeyframes(flvTags(await testPatternFlv(8))));
    const event = await expectFailed('no-keyframe', 'no_keyframe', { exited: ended.then((how) => (how === 'closed' ? 1 : 0)) });
    expect((event.data as { reason: string }).reason).toMatch(/keyframe interval/);
    await tap.drained();
    expect(forChannel('no-keyframe', 'live.started')).toEqual([]);
    expect(await objectsUnder(stack.resources.names.mediaBucket, 'live/no-keyframe/')).toEqual([]);
  }, 30_000);

  it('audio that is not AAC', async () => {
    const key = await createTestChannel(stack, 'mp3-audio');
    const publisher = publishTestPattern(`${ingest.url}/${key}`, {
      seconds: 6,
      size: '640x360',
      audioArgs: ['-c:a', 'libmp3lame', '-ar', '44100'],
    });
    const event = await expectFailed('mp3-audio', 'unsupported_audio_codec', publisher);
    expect((event.data as { reason: string }).reason).toMatch(/MP3.*AAC/);
    expect(forChannel('mp3-audio', 'live.started')).toEqual([]);
  }, 30_000);

  it('a picture larger than the ingest takes', async () => {
    const key = await createTestChannel(stack, 'too-large');
    const publisher = publishTestPattern(`${ingest.url}/${key}`, { seconds: 4, size: '2560x1440', rate: 5, gop: 5 });
    const event = await expectFailed('too-large', 'picture_too_large', publisher);
    expect((event.data as { reason: string }).reason).toMatch(/2560×1440/);
  }, 30_000);

  it('an encoder that stalls is disconnected, and the session ends after the grace window', async () => {
    const key = await createTestChannel(stack, 'stalling');
    const publisher = publishTestPattern(`${ingest.url}/${key}`, { seconds: 30, size: '640x360' });
    const started = await tap.waitFor('live.started', (e) => e.type === 'live.started' && e.subject === 'stalling');
    const { sessionId } = started.data as { sessionId: string };
    await waitFor(
      'a first segment',
      async () => ((await readLiveFile(stack, 'stalling', sessionId, '360p/index.m3u8')) ?? '').includes('.m4s') || undefined,
    );
    // The encoder freezes with its connection open: no bytes, no close.
    publisher.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    const ended = await tap.waitFor('live.ended', (e) => e.id === `live.ended:stalling:${sessionId}`, 20_000);
    // Stall (2 s) + grace (2 s), and not long after.
    expect(Date.parse(ended.time) - stoppedAt).toBeGreaterThan(3500);
    expect(Date.parse(ended.time) - stoppedAt).toBeLessThan(12_000);
    publisher.child.kill('SIGKILL');
    publisher.child.kill('SIGCONT');
    await publisher.exited;
  }, 60_000);
});

describe('garbage on the RTMP port', () => {
  it('random bytes close the connection they came on, quickly', async () => {
    const socket = connect(ingest.rtmp.port, '127.0.0.1');
    const closed = closedBy(socket);
    socket.write(randomBytes(200_000));
    expect(await closed).toBeLessThan(3000);
  });

  it('a message header claiming 16 MiB on every chunk stream allocates nothing and closes the connection', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const socket = connect(ingest.rtmp.port, '127.0.0.1');
    const closed = closedBy(socket);
    // A plain handshake (C0, C1, C2), then type-0 chunk headers for chunk streams 3…63, each announcing a
    // message of 0xFFFFFF bytes: a parser that allocates on the header would hold ~1 GiB of buffers here.
    const headers = [];
    for (let cid = 3; cid < 64; cid++) headers.push(Buffer.from([cid, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0]));
    socket.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536), Buffer.alloc(1536), ...headers]));
    await new Promise((r) => setTimeout(r, 500));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    expect(await closed).toBeLessThan(3000);
  });

  it('idle connections beyond the per-address limit are closed at once; the server still answers publishers', async () => {
    const sockets = Array.from({ length: 12 }, () => connect(ingest.rtmp.port, '127.0.0.1'));
    const closes = sockets.map((s) => closedBy(s));
    const early = await Promise.all(closes.map((c) => Promise.race([c, new Promise<number>((r) => setTimeout(() => r(-1), 1500))])));
    expect(early.filter((ms) => ms >= 0).length).toBeGreaterThanOrEqual(4);
    for (const s of sockets) s.destroy();
    const wrong = publishTestPattern(`${ingest.url}/not-a-key`, { seconds: 2, size: '320x240' });
    expect(await wrong.exited).not.toBe(0);
    expect(wrong.stderr()).toMatch(/stream key is not valid/);
  });
});
