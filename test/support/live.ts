import { spawn, type ChildProcess } from 'node:child_process';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Config } from '../../core/config/index.ts';
import { LiveChannels } from '../../core/live/channels.ts';
import { livePresentationPrefix } from '../../core/live/live-paths.ts';
import { EventPublisher } from '../../core/events.ts';
import { createLogger, silentLogger } from '../../core/logger.ts';
import { startLiveIngest, type LiveIngestHooks, type RunningLiveIngest } from '../../workers/live/live-ingest.ts';
import type { TestStack } from './stack.ts';

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
  { live = {}, hooks, sweepEveryMs = 500 }: { live?: Partial<Config['live']>; hooks?: LiveIngestHooks; sweepEveryMs?: number } = {},
): Promise<RunningLiveIngest & { url: string }> {
  const logger = process.env.REELAY_TEST_LOG ? createLogger('live', { level: process.env.REELAY_TEST_LOG }) : silentLogger();
  const ingest = await startLiveIngest({
    config: liveTestConfig(stack.config, live),
    clients: stack.clients,
    resources: stack.resources,
    ffmpegPath: stack.binaries.ffmpeg.path,
    logger,
    sweepEveryMs,
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

/**
 * ffmpeg publishing a lavfi test pattern over RTMP in real time, as OBS would: H.264 (x264 ultrafast) with a
 * keyframe every `gop` frames, AAC. `videoArgs` replaces the encoder settings (for hostile streams).
 */
export function publishTestPattern(
  url: string,
  {
    seconds = 8,
    size = '1280x720',
    rate = 30,
    gop = 60,
    audio = true,
    videoArgs,
    inputArgs = [],
  }: { seconds?: number; size?: string; rate?: number; gop?: number; audio?: boolean; videoArgs?: string[]; inputArgs?: string[] } = {},
): TestPublisher {
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-re',
    ...inputArgs,
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=${rate}`,
    ...(audio ? ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'] : []),
    '-t',
    String(seconds),
    ...(videoArgs ?? ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(gop), '-pix_fmt', 'yuv420p']),
    ...(audio ? ['-c:a', 'aac', '-b:a', '96k'] : []),
    '-f',
    'flv',
    url,
  ];
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
