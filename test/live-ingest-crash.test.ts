import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventTap } from './support/event-tap.ts';
import { createTestChannel, publishTestPattern, readLiveFile, startTestLiveIngest } from './support/live.ts';
import { spawnRole, type RoleProcess } from './support/role-process.ts';
import { startTestStack, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';

/**
 * The live ingest when things break under it: the ingest process SIGKILLed mid-stream (another ingest's sweep
 * ends the session and the recording up to the crash becomes a video), the emulator restarted mid-stream (the
 * stream goes on, nothing recorded is lost), and an encoder that reconnects within the grace window (the session
 * continues). Real emulator, real ffmpeg, a real worker for the recordings.
 */
let stack: TestStack;
let tap: EventTap;

beforeAll(async () => {
  stack = await startTestStack();
  tap = await EventTap.start(stack.clients, {
    name: `${stack.config.prefix}-tap-crash`,
    topicArns: [stack.resources.videoTopicArn, stack.resources.liveTopicArn],
  });
});
afterAll(async () => {
  await tap?.stop();
  await stack?.stop();
});

const recordingParts = async (channelId: string) => {
  const page = await stack.clients.s3.send(
    new ListObjectsV2Command({ Bucket: stack.resources.names.rawBucket, Prefix: `live-recordings/${channelId}/` }),
  );
  return (page.Contents ?? []).length;
};
const segmentsListed = async (channelId: string, sessionId: string, rendition = '360p') =>
  ((await readLiveFile(stack, channelId, sessionId, `${rendition}/index.m3u8`)) ?? '')
    .match(/^\d+\.m4s$/gm)
    ?.map((s) => Number.parseInt(s, 10)) ?? [];

async function recordingOf(channelId: string, sessionId: string): Promise<Record<string, any>> {
  await tap.waitFor(`live.ended of ${channelId}`, (e) => e.id === `live.ended:${channelId}:${sessionId}`, 45_000);
  const queued = await tap.waitFor(
    `the recording of ${channelId}`,
    (e) => e.type === 'video.queued' && (e.data as { sessionId?: string }).sessionId === sessionId,
    15_000,
  );
  return waitForFinalStatus(stack.baseUrl, (queued.data as { videoId: string }).videoId, 90_000);
}

/** The live role as its own process, with short lease and grace windows; resolves once it listens. */
async function startLiveRole(): Promise<{ role: RoleProcess; url: string }> {
  const role = spawnRole(stack, 'workers/live/main.ts', {
    REELAY_LIVE_RTMP_PORT: '0',
    REELAY_LIVE_METRICS_PORT: '0',
    REELAY_LIVE_LEASE_SECONDS: '3',
    REELAY_LIVE_RECONNECT_GRACE_SECONDS: '2',
    REELAY_LIVE_STALL_SECONDS: '2',
    REELAY_LIVE_X264_PRESET: 'ultrafast',
  });
  const port = await waitFor('the live role to listen', () => /"rtmp":\{"host":"[^"]+","port":(\d+)\}/.exec(role.output())?.[1], 30_000);
  return { role, url: `rtmp://127.0.0.1:${port}/live` };
}

describe('live ingest failures', () => {
  it('the ingest process SIGKILLed mid-stream: another ingest ends the session and the recording up to then becomes a video', async () => {
    const key = await createTestChannel(stack, 'crashing');
    const first = await startLiveRole();
    const publisher = publishTestPattern(`${first.url}/${key}`, { seconds: 60, size: '640x360' });
    const started = await tap.waitFor('live.started', (e) => e.type === 'live.started' && e.subject === 'crashing', 30_000);
    const { sessionId } = started.data as { sessionId: string };
    await waitFor('two recording parts stored', async () => ((await recordingParts('crashing')) >= 2 ? true : undefined), 30_000);
    const killedAt = Date.now();
    first.role.child.kill('SIGKILL');
    await first.role.exited;
    // The encoder loses its connection.
    expect(await publisher.exited).not.toBe(0);
    const streamedSeconds = (killedAt - Date.parse(started.time)) / 1000;

    const second = await startLiveRole();
    try {
      const video = await recordingOf('crashing', sessionId);
      expect(video).toMatchObject({ status: 'ready', channelId: 'crashing', priority: 'high' });
      // What was stored before the crash: whole 4 s parts, at most one lost with the process.
      expect(video.source.duration).toBeGreaterThanOrEqual(4);
      expect(video.source.duration).toBeLessThanOrEqual(streamedSeconds + 1);
      expect(second.role.output()).toMatch(/finishing a live session left by a stopped ingest process/);
      await tap.drained();
      expect(tap.ids('live.ended').filter((id) => id.includes(sessionId))).toHaveLength(1);
      expect(await recordingParts('crashing')).toBe(0);
    } finally {
      second.role.child.kill('SIGTERM');
      await second.role.exited;
    }
  }, 180_000);

  it('the emulator restarted mid-stream: the stream goes on and the whole recording is kept', async () => {
    const ingest = await startTestLiveIngest(stack);
    try {
      const key = await createTestChannel(stack, 'outage');
      const publisher = publishTestPattern(`${ingest.url}/${key}`, { seconds: 16, size: '640x360' });
      const started = await tap.waitFor('live.started', (e) => e.type === 'live.started' && e.subject === 'outage');
      const { sessionId } = started.data as { sessionId: string };
      await waitFor('two segments', async () => ((await segmentsListed('outage', sessionId)).length >= 2 ? true : undefined));
      await stack.restartEmulator({ downMs: 3000 });
      const before = Math.max(...(await segmentsListed('outage', sessionId)));
      await waitFor(
        'segments after the outage',
        async () => (Math.max(...(await segmentsListed('outage', sessionId))) >= before + 2 ? true : undefined),
        20_000,
      );
      expect(await publisher.exited).toBe(0);
      const listed = await segmentsListed('outage', sessionId);
      // No gap in the live playlist: every segment made during the outage was stored once it was back.
      expect(listed).toEqual(listed.map((_, i) => listed[0]! + i));
      const video = await recordingOf('outage', sessionId);
      expect(video.status).toBe('ready');
      expect(video.source.duration).toBeGreaterThan(14.5);
      expect(video.source.duration).toBeLessThan(17);
    } finally {
      await ingest.stop();
    }
  }, 180_000);

  it('an encoder back within the grace window continues the session: one live.started, one live.ended, one recording', async () => {
    const ingest = await startTestLiveIngest(stack, { live: { reconnectGraceMs: 6000 } });
    try {
      const key = await createTestChannel(stack, 'reconnecting');
      const first = publishTestPattern(`${ingest.url}/${key}`, { seconds: 5, size: '640x360' });
      const started = await tap.waitFor('live.started', (e) => e.type === 'live.started' && e.subject === 'reconnecting');
      const { sessionId } = started.data as { sessionId: string };
      expect(await first.exited).toBe(0);
      const second = publishTestPattern(`${ingest.url}/${key}`, { seconds: 5, size: '640x360' });
      expect(await second.exited).toBe(0);
      const playlist = (await readLiveFile(stack, 'reconnecting', sessionId, '360p/index.m3u8'))!;
      expect(playlist).toContain('#EXT-X-DISCONTINUITY');
      expect(playlist).toContain('init-2.mp4');
      const video = await recordingOf('reconnecting', sessionId);
      expect(video.status).toBe('ready');
      expect(video.source.duration).toBeGreaterThan(9);
      await tap.drained();
      expect(
        tap
          .events()
          .filter((e) => e.subject === 'reconnecting')
          .map((e) => e.type),
      ).toEqual(['live.started', 'live.ended']);
    } finally {
      await ingest.stop();
    }
  }, 120_000);
});
