import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMediaPlaylist } from '../core/hls-playlist.ts';
import { clipArgv } from '../testkit/clip.ts';
import { EventTap } from './support/event-tap.ts';
import { typesInPublishOrder } from './support/event-order.ts';
import { startTestStack, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { timeScale } from './support/test-emulator.ts';
import { postVideo } from './support/upload.ts';

/**
 * Playable while encoding (#21 part 1), through the real emulator and real ffmpeg: the worker stores each
 * HLS segment as ffmpeg's EVENT playlist lists it, so the stored playlists grow while the video is
 * `processing`, the master appears once every rendition has a segment, and `video.playable` goes out
 * before `video.ready`. The source is long enough (40 s of 720p: 1, 1, 2 s then ten 4 s segments per
 * rendition) that ffmpeg runs for seconds even on an idle machine; every wait is on a condition.
 */
const SOURCE_SECONDS = 40;

let stack: TestStack;
let tap: EventTap;
let dir: string;
let clip: string;

beforeAll(async () => {
  stack = await startTestStack();
  tap = await EventTap.start(stack.clients, { name: `${stack.config.prefix}-tap-playable`, topicArns: [stack.resources.videoTopicArn] });
  dir = await mkdtemp(path.join(tmpdir(), 'reelay-playable-'));
  clip = path.join(dir, 'source.mp4');
  await promisify(execFile)(stack.binaries.ffmpeg.path, clipArgv(clip, { seconds: SOURCE_SECONDS, width: 1280, height: 720, fps: 30 }));
}, 120_000);
afterAll(async () => {
  await tap?.stop();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function getText(key: string): Promise<string | undefined> {
  try {
    const res = await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.resources.names.mediaBucket, Key: key }));
    return await res.Body!.transformToString('utf-8');
  } catch {
    return undefined;
  }
}

async function getBytes(key: string): Promise<Buffer> {
  const res = await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.resources.names.mediaBucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

/** Segment objects stored under a variant, with their sizes. */
async function storedSegments(prefix: string): Promise<Map<string, number>> {
  const res = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: stack.resources.names.mediaBucket, Prefix: prefix }));
  return new Map((res.Contents ?? []).filter((o) => o.Key!.endsWith('.m4s')).map((o) => [o.Key!.slice(prefix.length), o.Size ?? 0]));
}

describe('playable while encoding', () => {
  it('grows the EVENT playlists while ffmpeg runs, stores only listed segments, and announces video.playable before video.ready', async () => {
    const res = await postVideo(stack.baseUrl, clip, { contentType: 'video/mp4', params: { priority: 'high' } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const variant = `videos/${id}/hls/720p/`;

    // While the video is processing: the stored 720p playlist, each time it changes; and once, what a
    // player gets from the API (the status, the master and a variant playlist) while the video encodes.
    const seen: { segments: string[]; text: string; stored: Map<string, number> }[] = [];
    let whileProcessing:
      { view: Record<string, any>; master: Response; masterText: string; variant: Response; variantText: string } | undefined;
    let status = 'queued';
    await waitFor(
      'the video to finish',
      async () => {
        const text = await getText(`${variant}index.m3u8`);
        const stored = await storedSegments(variant);
        status = (await stack.store.get(id))?.status ?? 'missing';
        // The finished (VOD) playlist is stored just before the status turns ready: only EVENT ones count here.
        if (status === 'processing' && text?.includes('#EXT-X-PLAYLIST-TYPE:EVENT') && text !== seen.at(-1)?.text) {
          seen.push({ segments: parseMediaPlaylist(text).segments.map((s) => s.uri), text, stored });
        }
        if (!whileProcessing && status === 'processing') {
          const view = (await (await fetch(`${stack.baseUrl}/v1/videos/${id}`)).json()) as Record<string, any>;
          if (view.status === 'processing' && view.playable === true) {
            const master = await fetch(`${stack.baseUrl}${view.hls.url}`);
            const masterText = await master.text();
            const variant = await fetch(`${stack.baseUrl}/v1/videos/${id}/hls/360p/index.m3u8`);
            const variantText = await variant.text();
            if ((await stack.store.get(id))?.status === 'processing') whileProcessing = { view, master, masterText, variant, variantText };
          }
        }
        return status === 'ready' || status === 'failed' ? status : undefined;
      },
      180_000 * timeScale,
    );
    const final = await waitForFinalStatus(stack.baseUrl, id);
    expect(final.status).toBe('ready');

    // The API served the presentation of the processing video: playlists not to be cached, the master
    // with both renditions (BANDWIDTH from the caps until the end), the variant an EVENT playlist.
    expect(whileProcessing, 'the API was seen serving the video while it encoded').toBeDefined();
    const w = whileProcessing!;
    expect(w.view).toMatchObject({ status: 'processing', playable: true, hls: { url: `/v1/videos/${id}/hls/master.m3u8` } });
    expect(w.view.playableAt).toEqual(expect.any(String));
    expect(w.master.status).toBe(200);
    expect(w.master.headers.get('cache-control')).toBe('no-cache');
    expect(w.masterText).toMatch(/BANDWIDTH=\d+,RESOLUTION=640x360,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    expect(w.masterText).toContain('720p/index.m3u8');
    expect(w.variant.status).toBe(200);
    expect(w.variant.headers.get('cache-control')).toBe('no-cache');
    expect(w.variantText).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(w.variantText).toContain('seg_00000.m4s');

    // Seen growing while processing: EVENT, no ENDLIST, and more than one length.
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const s of seen) {
      expect(s.text).not.toContain('#EXT-X-ENDLIST');
      expect(s.text).toContain('#EXT-X-TARGETDURATION:4');
      // What a stored playlist lists was stored before it.
      for (const uri of s.segments) expect(s.stored.has(uri), `${uri} listed before it was stored`).toBe(true);
    }
    const lengths = seen.map((s) => s.segments.length);
    expect(new Set(lengths).size).toBeGreaterThanOrEqual(2);
    expect([...lengths].sort((a, b) => a - b)).toEqual(lengths);

    // Finished: VOD with ENDLIST, the first segments short (1, 1, 2 s) then 4 s.
    const vod = parseMediaPlaylist((await getText(`${variant}index.m3u8`))!);
    expect(vod.endList).toBe(true);
    expect(await getText(`${variant}index.m3u8`)).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(vod.segments.slice(0, 4).map((s) => Math.round(s.duration))).toEqual([1, 1, 2, 4]);
    expect(vod.segments.reduce((sum, s) => sum + s.duration, 0)).toBeCloseTo(SOURCE_SECONDS, 0);

    // Every stored segment is listed, and a segment stored while ffmpeg ran was already complete: its
    // object is the one the finished presentation plays (same size), and init + segments decode in full.
    const stored = await storedSegments(variant);
    expect([...stored.keys()].sort()).toEqual(vod.segments.map((s) => s.uri).sort());
    for (const s of seen) for (const [uri, size] of s.stored) expect(stored.get(uri), uri).toBe(size);
    const joined = path.join(dir, `${id}-720p.mp4`);
    await writeFile(
      joined,
      Buffer.concat([
        await getBytes(`${variant}init.mp4`),
        ...(await Promise.all(vod.segments.map((s) => getBytes(`${variant}${s.uri}`)))),
      ]),
    );
    const { stdout } = await promisify(execFile)(stack.binaries.ffprobe.path, [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=nb_read_frames',
      '-of',
      'csv=p=0',
      joined,
    ]);
    expect(Number(stdout.trim())).toBe(SOURCE_SECONDS * 30);

    // Events: video.playable once, before video.ready, pointing at the master.
    await tap.waitFor('video.ready', (e) => e.type === 'video.ready' && e.subject === id, 30_000 * timeScale);
    const mine = tap.events().filter((e) => e.subject === id);
    const playable = mine.filter((e) => e.type === 'video.playable');
    expect(new Set(playable.map((e) => e.id))).toEqual(new Set([`video.playable:${id}`]));
    expect(playable[0]!.data).toMatchObject({ videoId: id, priority: 'high', hls: { url: `/v1/videos/${id}/hls/master.m3u8` } });
    const order = typesInPublishOrder(mine).filter((t) => t !== 'video.progress');
    expect(order.indexOf('video.playable')).toBeGreaterThan(order.indexOf('video.processing'));
    expect(order.indexOf('video.playable')).toBeLessThan(order.indexOf('video.ready'));
    const playableAt = Date.parse((playable[0]!.data as { playableAt: string }).playableAt);
    expect(playableAt).toBeLessThan(Date.parse(final.finishedAt));
    expect(final).toMatchObject({ playable: true, playableAt: (playable[0]!.data as { playableAt: string }).playableAt });
    expect(final).not.toHaveProperty('playableAnnounced');

    // The finished master is measured (AVERAGE-BANDWIDTH), and lists both renditions.
    const master = (await getText(`videos/${id}/hls/master.m3u8`))!;
    expect(master).toContain('AVERAGE-BANDWIDTH=');
    expect(master).toContain('360p/index.m3u8');
    expect(master).toContain('720p/index.m3u8');
  }, 300_000);
});
