import { spawn, type ChildProcess } from 'node:child_process';
import AVPacket from 'node-media-server/src/core/avpacket.js';
import RtmpClient from 'node-media-server/src/protocol/rtmp_client.js';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Config } from '../../core/config/index.ts';
import { LiveChannels } from '../../core/live/channels.ts';
import { livePresentationPrefix } from '../../core/live/live-paths.ts';
import { EventPublisher } from '../../core/events.ts';
import { createLogger, silentLogger } from '../../core/logger.ts';
import { startLiveIngest, type LiveIngestHooks, type RunningLiveIngest } from '../../workers/live/live-ingest.ts';
import type { TestStack } from './stack.ts';
import { testPatternArgs, type TestPatternOptions } from '../../testkit/test-pattern.ts';

/** Live settings for tests: a free port, short grace, stall and lease windows. */
export function liveTestConfig(config: Config, live: Partial<Config['live']> = {}): Config {
  return {
    ...config,
    live: {
      ...config.live,
      host: '127.0.0.1',
      rtmpPort: 0,
      reconnectGraceMs: 2000,
      stallMs: 2000,
      leaseMs: 3000,
      preset: 'ultrafast',
      ...live,
    },
  };
}

/** The live ingest role wired in-process against a test stack (its real emulator, ffmpeg, S3, SNS, SQS). */
export async function startTestLiveIngest(
  stack: TestStack,
  {
    live = {},
    hooks,
    sweepEveryMs = 500,
    keyframeDeadlineMs = 3000,
  }: { live?: Partial<Config['live']>; hooks?: LiveIngestHooks; sweepEveryMs?: number; keyframeDeadlineMs?: number } = {},
): Promise<RunningLiveIngest & { url: string }> {
  const logger = process.env.REELAY_TEST_LOG ? createLogger('live', { level: process.env.REELAY_TEST_LOG }) : silentLogger();
  const ingest = await startLiveIngest({
    config: liveTestConfig(stack.config, live),
    clients: stack.clients,
    resources: stack.resources,
    ffmpegPath: stack.binaries.ffmpeg.path,
    logger,
    sweepEveryMs,
    keyframeDeadlineMs,
    ...(hooks ? { hooks } : {}),
  });
  return Object.assign(ingest, { url: `rtmp://127.0.0.1:${ingest.rtmp.port}/live` });
}

/** Makes a channel with a stream key straight through the channel store (as POST /v1/channels does). */
export async function createTestChannel(stack: TestStack, channelId: string, tenant = 'default'): Promise<string> {
  const channels = new LiveChannels({
    s3: stack.clients.s3,
    mediaBucket: stack.resources.names.mediaBucket,
    events: new EventPublisher(stack.clients.sns, stack.resources),
    logger: silentLogger(),
    source: '/reelay/test',
  });
  const { streamKey } = await channels.create(tenant, { channelId, name: `Channel ${channelId}` });
  return streamKey;
}

export interface TestPublisher {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

/** ffmpeg publishing the test pattern over RTMP in real time (`-re`), as OBS would. */
export function publishTestPattern(url: string, options: TestPatternOptions = {}): TestPublisher {
  const args = ['-hide_banner', '-loglevel', 'error', '-re', ...testPatternArgs(options), '-f', 'flv', url];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

/** A file of the session's live presentation in the media bucket, or undefined while it is not there. */
export async function readLiveFile(
  stack: TestStack,
  channelId: string,
  sessionId: string,
  file: string,
  tenant = 'default',
): Promise<string | undefined> {
  try {
    const res = await stack.clients.s3.send(
      new GetObjectCommand({
        Bucket: stack.resources.names.mediaBucket,
        Key: `${livePresentationPrefix(tenant, channelId, sessionId)}${file}`,
      }),
    );
    return await res.Body!.transformToString('utf-8');
  } catch {
    return undefined;
  }
}

/** The tags of an FLV file: type (8 audio, 9 video, 18 data), timestamp (ms) and payload. */
export function flvTags(flv: Buffer): { type: number; timestamp: number; data: Buffer }[] {
  const tags = [];
  let at = flv.readUInt32BE(5) + 4; // the header, then PreviousTagSize0
  while (at + 11 <= flv.length) {
    const size = flv.readUIntBE(at + 1, 3);
    const timestamp = flv.readUIntBE(at + 4, 3) | (flv[at + 7]! << 24);
    tags.push({ type: flv[at]!, timestamp, data: Buffer.from(flv.subarray(at + 11, at + 11 + size)) });
    at += 11 + size + 4;
  }
  return tags;
}

/** Marks every video frame an inter frame (FLV frame type 2): a stream that never has a keyframe. */
export function withoutKeyframes(tags: ReturnType<typeof flvTags>): ReturnType<typeof flvTags> {
  return tags.map((tag) => {
    // AVC NAL units (packet type 1), not the sequence header: keyframe (1) → inter frame (2).
    if (tag.type !== 9 || tag.data[1] !== 1 || tag.data[0]! >> 4 !== 1) return tag;
    const data = Buffer.from(tag.data);
    data[0] = (2 << 4) | (data[0]! & 0x0f);
    return { ...tag, data };
  });
}

/**
 * Publishes FLV tags over RTMP in real time with node-media-server's RTMP client: for streams no encoder would
 * send (ffmpeg's own muxer re-derives keyframe flags). Resolves with how it ended: `refused` (the server said
 * no), `closed` (the server hung up while media flowed) or `done`.
 */
export async function publishTags(url: string, tags: ReturnType<typeof flvTags>): Promise<'refused' | 'closed' | 'done'> {
  const client = new RtmpClient();
  let closed = false;
  client.onCloseCallback = () => (closed = true);
  const { pathname } = new URL(url);
  await client.connect(url);
  await client.sendConnect();
  await client.sendCreateStream();
  try {
    await client.sendPublish(pathname.split('/').pop()!);
  } catch {
    client.disconnect();
    return 'refused';
  }
  const start = Date.now();
  for (const tag of tags) {
    if (closed) return 'closed';
    const wait = start + tag.timestamp - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    try {
      client.sendPacket(
        Object.assign(new AVPacket(), {
          codec_type: tag.type,
          dts: tag.timestamp,
          pts: tag.timestamp,
          size: tag.data.length,
          data: tag.data,
        }),
      );
    } catch {
      return 'closed'; // the server hung up
    }
  }
  client.disconnect();
  return closed ? 'closed' : 'done';
}

/** A few seconds of the test pattern as FLV (H.264, no audio), made with ffmpeg. */
export async function testPatternFlv(seconds = 6): Promise<Buffer> {
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    ...testPatternArgs({ seconds, size: '640x360', audio: false }),
    '-f',
    'flv',
    'pipe:1',
  ];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => chunks.push(d));
  await new Promise((resolve) => child.on('exit', resolve));
  return Buffer.concat(chunks);
}
