import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMediaPlaylist } from '../core/hls-playlist.ts';
import { startTestStack, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';

/**
 * HLS and storyboard against the real emulator and real ffmpeg: every sample
 * becomes ready with an HLS presentation and a storyboard from the same pass,
 * read back through the API's playback routes the way a player reads them, and
 * checked with ffprobe (master and every variant, over HTTP).
 */
const run = promisify(execFile);
const samples = path.resolve(import.meta.dirname, '../samples');

const SAMPLES = [
  { file: 'landscape-720p-audio.mp4', type: 'video/mp4', variants: ['360p', '720p'], audio: true, display: [1280, 720] },
  { file: 'portrait-rotated-silent.mp4', type: 'video/mp4', variants: ['360p', '720p'], audio: false, display: [720, 1280] },
  { file: 'small-480p.mkv', type: 'video/x-matroska', variants: ['360p'], audio: true, display: [854, 480] },
] as const;

const KEY = 'playback-test-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };
let stack: TestStack;
beforeAll(async () => {
  // API keys on: the presentation must be reachable with a `playback` token alone.
  stack = await startTestStack({
    env: { REELAY_AUTH: 'keys', REELAY_API_KEYS: KEY, REELAY_TOKEN_SECRET: 'playback-test-token-secret-0123456789abcdef' },
  });
});
afterAll(async () => {
  await stack?.stop();
});

async function playbackToken(videoId: string): Promise<string> {
  const res = await fetch(`${stack.baseUrl}/v1/tokens`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ scope: 'playback', videoId }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

async function ffprobeJson(url: string, ...args: string[]): Promise<any> {
  const { stdout } = await run(stack.binaries.ffprobe.path, ['-v', 'error', '-of', 'json', ...args, url], { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout);
}

async function text(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return res.text();
}

describe.concurrent('HLS and storyboard from the single pass', () => {
  for (const sample of SAMPLES) {
    it(`${sample.file}: master and every variant read by ffprobe, aligned segments, a storyboard that covers the video`, async () => {
      const id = await upload(stack.baseUrl, path.join(samples, sample.file), { contentType: sample.type, headers: auth });
      const video = await waitForFinalStatus(stack.baseUrl, id, 150_000, auth);
      // Everything below is fetched the way a player does it: with a playback token in the URL, no key.
      const token = await playbackToken(id);
      const q = `?token=${encodeURIComponent(token)}`;
      expect(video.status).toBe('ready');
      expect(video.hls.url).toBe(`/v1/videos/${id}/hls/master.m3u8`);
      expect(video.storyboard).toMatchObject({
        url: `/v1/videos/${id}/storyboard/storyboard.vtt`,
        spriteUrl: `/v1/videos/${id}/storyboard/sprite.jpg`,
      });

      // The master lists one variant per rendition with what players need to choose.
      const masterUrl = `${stack.baseUrl}${video.hls.url}${q}`;
      const master = await text(masterUrl);
      const infs = master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF:'));
      expect(infs).toHaveLength(sample.variants.length);
      for (const [i, name] of sample.variants.entries()) {
        const mp4 = video.outputs[name];
        expect(infs[i]).toContain(`RESOLUTION=${mp4.width}x${mp4.height}`);
        expect(infs[i]).toMatch(/BANDWIDTH=\d{4,},/);
        expect(infs[i]).toMatch(sample.audio ? /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/ : /CODECS="avc1\.[0-9a-f]{6}"/);
        expect(infs[i]).toMatch(/FRAME-RATE=\d+\.\d{3}/);
      }

      // ffprobe opens the master over HTTP and finds every variant's streams.
      const probedMaster = await ffprobeJson(masterUrl, '-show_streams', '-show_programs');
      expect(probedMaster.programs).toHaveLength(sample.variants.length);
      const widths = probedMaster.streams.filter((s: any) => s.codec_type === 'video').map((s: any) => s.width);
      expect(widths.sort()).toEqual(sample.variants.map((n) => video.outputs[n].width).sort());

      // Each variant: ffprobe reads it, its segments add up to the MP4's duration, and they cut at the same times.
      const durations: number[][] = [];
      for (const name of sample.variants) {
        const variantUrl = `${stack.baseUrl}/v1/videos/${id}/hls/${name}/index.m3u8${q}`;
        const playlist = parseMediaPlaylist(await text(variantUrl));
        expect(playlist.endList).toBe(true);
        expect(playlist.map).toBe(`init.mp4${q}`);
        expect(playlist.targetDuration).toBeLessThanOrEqual(4);
        const total = playlist.segments.reduce((s, seg) => s + seg.duration, 0);
        expect(Math.abs(total - video.outputs[name].duration)).toBeLessThan(0.1);
        durations.push(playlist.segments.map((s) => s.duration));

        const probed = await ffprobeJson(variantUrl, '-show_streams', '-show_format');
        const v = probed.streams.find((s: any) => s.codec_type === 'video');
        // The CODECS profile and level are the ones the stream really has.
        const codecs = /CODECS="avc1\.([0-9a-f]{2})[0-9a-f]{2}([0-9a-f]{2})/.exec(
          infs[(sample.variants as readonly string[]).indexOf(name)]!,
        )!;
        expect(parseInt(codecs[1]!, 16)).toBe(
          ({ High: 100, Main: 77, Baseline: 66, 'Constrained Baseline': 66 } as Record<string, number>)[v.profile],
        );
        expect(parseInt(codecs[2]!, 16)).toBe(v.level);
        expect(v).toMatchObject({ codec_name: 'h264', width: video.outputs[name].width, height: video.outputs[name].height });
        expect(Boolean(probed.streams.find((s: any) => s.codec_type === 'audio'))).toBe(sample.audio);
        expect(Number(probed.format.duration)).toBeCloseTo(total, 0);

        // Every segment starts on a keyframe: a player can switch variants at any segment boundary.
        const frames = await ffprobeJson(variantUrl, '-select_streams', 'v:0', '-show_entries', 'frame=key_frame,pts_time');
        const keyTimes = frames.frames.filter((f: any) => f.key_frame === 1).map((f: any) => Number(f.pts_time));
        expect(keyTimes.length).toBe(playlist.segments.length);
      }
      for (const d of durations.slice(1)) expect(d).toEqual(durations[0]);

      // The storyboard: a sprite of the planned grid, and cues from 0 to the end of the video.
      const sb = video.storyboard;
      const sprite = await fetch(`${stack.baseUrl}${sb.spriteUrl}${q}`);
      expect(sprite.headers.get('content-type')).toBe('image/jpeg');
      const spriteBytes = Buffer.from(await sprite.arrayBuffer());
      expect(spriteBytes.length).toBe(sb.spriteBytes);
      const probedSprite = await ffprobeJson(`${stack.baseUrl}${sb.spriteUrl}${q}`, '-show_streams');
      expect(probedSprite.streams[0]).toMatchObject({
        codec_name: 'mjpeg',
        width: sb.columns * sb.tileWidth,
        height: sb.rows * sb.tileHeight,
      });
      expect(sb.tileWidth).toBe(160);
      expect(sb.tileHeight).toBe(Math.round((160 * sample.display[1]) / sample.display[0] / 2) * 2);
      expect(sb.tiles).toBeLessThanOrEqual(100);
      const vtt = await text(`${stack.baseUrl}${sb.url}${q}`);
      const cues = [...vtt.matchAll(/^(\S+) --> (\S+)\n(sprite\.jpg\?token=[^#\s]+#xywh=\d+,\d+,\d+,\d+)$/gm)];
      expect(cues).toHaveLength(sb.tiles);
      expect(cues[0]![1]).toBe('00:00:00.000');
      const end = cues
        .at(-1)![2]!
        .split(':')
        .reduce((acc, part) => acc * 60 + Number(part), 0);
      expect(end).toBeCloseTo(video.source.duration, 1);
    }, 180_000);
  }

  it('a playback token reaches every file of its own video (carried through playlists and the VTT) and nothing else', async () => {
    const id = await upload(stack.baseUrl, path.join(samples, 'landscape-720p-audio.mp4'), { headers: auth });
    const other = await upload(stack.baseUrl, path.join(samples, 'small-480p.mkv'), { contentType: 'video/x-matroska', headers: auth });
    expect((await fetch(`${stack.baseUrl}/v1/videos/${id}/hls/master.m3u8`, { headers: auth })).status).toBe(409);
    await waitForFinalStatus(stack.baseUrl, id, 150_000, auth);
    await waitForFinalStatus(stack.baseUrl, other, 150_000, auth);
    const token = await playbackToken(id);
    const enc = encodeURIComponent(token);
    const base = `${stack.baseUrl}/v1/videos/${id}`;

    const master = await text(`${base}/hls/master.m3u8?token=${enc}`);
    expect(master).toContain(`\n360p/index.m3u8?token=${enc}\n`);
    const variant = await text(`${base}/hls/360p/index.m3u8?token=${enc}`);
    expect(variant).toContain(`#EXT-X-MAP:URI="init.mp4?token=${enc}"`);
    expect(variant).toContain(`\nseg_00000.m4s?token=${enc}\n`);
    const segment = await fetch(`${base}/hls/360p/seg_00000.m4s?token=${enc}`);
    expect(segment.status).toBe(200);
    expect(segment.headers.get('content-type')).toBe('video/iso.segment');
    expect(segment.headers.get('accept-ranges')).toBe('bytes');
    const whole = Buffer.from(await segment.arrayBuffer());
    // A player (or a proxy) asking for part of a segment gets that part.
    const part = await fetch(`${base}/hls/360p/seg_00000.m4s?token=${enc}`, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${whole.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(whole.subarray(100, 200));
    const vtt = await text(`${base}/storyboard/storyboard.vtt?token=${enc}`);
    expect(vtt).toContain(`sprite.jpg?token=${enc}#xywh=0,0,160,90`);

    // Without credentials: 401. With this video's token on another video: 403.
    expect((await fetch(`${base}/hls/master.m3u8`)).status).toBe(401);
    expect((await fetch(`${stack.baseUrl}/v1/videos/${other}/hls/master.m3u8?token=${enc}`)).status).toBe(403);

    for (const bad of [
      'hls/../720p.mp4',
      'hls/360p/..%2F..%2Fstatus.json',
      'hls/a/b/c.m4s',
      'storyboard/x.exe',
      'hls/720p/seg_99999.m4s',
    ]) {
      const r = await fetch(`${base}/${bad}`, { headers: auth });
      expect(r.status, bad).toBe(404);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
  }, 180_000);
});
