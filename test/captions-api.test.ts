import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';

/**
 * Captions through the API (#24 part 1), against the real emulator, worker and ffmpeg: a source's SubRip
 * track arrives in the status and the HLS master; `POST /v1/videos/:id/captions` adds WebVTT and SubRip
 * tracks (cleaned, the master rewritten, `video.captions.added` published), `GET` lists, `DELETE` removes;
 * bad files are a 400 naming the line; tenants and tokens as on every video route.
 */
const run = promisify(execFile);
const ACME = `acme:${'a'.repeat(24)}`;
const GLOBEX = `globex:${'g'.repeat(24)}`;
const keys = { acme: ACME.slice(5), globex: GLOBEX.slice(7) };

let stack: TestStack;
let dir: string;
let videoId: string;
let failedId: string;

function api(path: string, init: RequestInit & { as?: 'acme' | 'globex' | null } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.as !== null) headers.set('authorization', `Bearer ${keys[init.as ?? 'acme']}`);
  return fetch(`${stack.baseUrl}${path}`, { ...init, headers });
}

function postCaptions(query: string, body: string | Uint8Array, type = 'text/vtt', as?: 'acme' | 'globex'): Promise<Response> {
  return api(`/v1/videos/${videoId}/captions?${query}`, { method: 'POST', headers: { 'content-type': type }, body, ...(as ? { as } : {}) });
}

async function problem(res: Response, status: number): Promise<string> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  return ((await res.json()) as { detail: string }).detail;
}

const auth = { authorization: `Bearer ${keys.acme}` };

beforeAll(async () => {
  stack = await startTestStack({ env: { REELAY_API_KEYS: `${ACME},${GLOBEX}` } });
  dir = await mkdtemp(path.join(tmpdir(), 'reelay-captions-api-'));
  await writeFile(path.join(dir, 'en.srt'), '1\n00:00:00,200 --> 00:00:01,000\nFrom the source\n');
  await run(stack.binaries.ffmpeg.path, [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=2'],
    ...['-i', path.join(dir, 'en.srt'), '-map', '0:v', '-map', '1:s', '-c:v', 'libx264', '-preset', 'ultrafast'],
    ...['-c:s', 'copy', '-metadata:s:s:0', 'language=eng', path.join(dir, 'clip.mkv')],
  ]);
  const clip = await readFile(path.join(dir, 'clip.mkv'));
  [videoId, failedId] = await Promise.all([
    upload(stack.baseUrl, clip, { contentType: 'video/x-matroska', headers: auth }),
    upload(stack.baseUrl, new TextEncoder().encode('not a video at all'), { headers: auth }),
  ]);
  const [ready, failed] = await Promise.all([
    waitForFinalStatus(stack.baseUrl, videoId, undefined, auth),
    waitForFinalStatus(stack.baseUrl, failedId, undefined, auth),
  ]);
  expect(ready.status).toBe('ready');
  expect(failed.status).toBe('failed');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const FRENCH = 'WEBVTT\n\nintro\n00:00.100 --> 00:01.500\nBonjour <b>tout</b> le monde<script>alert(1)</script>\n';

describe('captions of a video', () => {
  it('a text subtitle track of the upload is in the status, the list and the HLS master', async () => {
    const status = (await (await api(`/v1/videos/${videoId}`)).json()) as { captions: unknown[] };
    expect(status.captions).toEqual([
      expect.objectContaining({
        id: '1-en',
        language: 'en',
        label: 'English',
        source: 'embedded',
        cues: 1,
        url: `/v1/videos/${videoId}/hls/subs/1-en.vtt`,
      }),
    ]);
    const master = await (await api(`/v1/videos/${videoId}/hls/master.m3u8`)).text();
    expect(master).toContain('#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English"');
    expect(await (await api(`/v1/videos/${videoId}/hls/subs/1-en.vtt`)).text()).toContain(
      '00:00:00.200 --> 00:00:01.000\nFrom the source\n',
    );
  });

  it('POST adds a cleaned WebVTT track: 201, the master rewritten, the event published; DELETE removes it', async () => {
    const hlsFiles = async () => ((await (await api(`/v1/videos/${videoId}`)).json()) as { hls: { files: number } }).hls.files;
    const filesBefore = await hlsFiles();
    const res = await postCaptions('language=fr-fr&label=Fran%C3%A7ais', FRENCH);
    expect(res.status).toBe(201);
    const track = (await res.json()) as { id: string; language: string; label: string; source: string; cues: number; url: string };
    expect(track).toMatchObject({ language: 'fr-FR', label: 'Français', source: 'uploaded', cues: 1 });
    expect(res.headers.get('location')).toBe(`/v1/videos/${videoId}/captions/${track.id}`);

    const vtt = await (await api(track.url)).text();
    expect(vtt).toBe(
      'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n00:00:00.100 --> 00:00:01.500\nBonjour <b>tout</b> le mondealert(1)\n',
    );
    const master = await (await api(`/v1/videos/${videoId}/hls/master.m3u8`)).text();
    expect(master).toContain(`LANGUAGE="fr-FR",NAME="Français",DEFAULT=NO,AUTOSELECT=YES,URI="subs/${track.id}.m3u8"`);
    expect(await (await api(`/v1/videos/${videoId}/hls/subs/${track.id}.m3u8`)).text()).toContain(`\n${track.id}.vtt\n#EXT-X-ENDLIST`);
    // The presentation's file count includes the track's WebVTT and playlist.
    expect(await hlsFiles()).toBe(filesBefore + 2);
    const list = (await (await api(`/v1/videos/${videoId}/captions`)).json()) as { items: { id: string }[] };
    expect(list.items.map((t) => t.id)).toEqual(['1-en', track.id]);
    const added = await waitFor('video.captions.added', () =>
      stack.notifier.recent.find((e) => e.type === 'video.captions.added' && e.subject === videoId),
    );
    expect(added).toMatchObject({
      id: `video.captions.added:${videoId}:${track.id}`,
      data: { videoId, caption: { id: track.id, label: 'Français' } },
    });

    expect((await api(`/v1/videos/${videoId}/captions/${track.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await (await api(`/v1/videos/${videoId}/hls/master.m3u8`)).text()).not.toContain(track.id);
    expect((await api(track.url)).status).toBe(404);
    expect(await hlsFiles()).toBe(filesBefore);
    expect(await problem(await api(`/v1/videos/${videoId}/captions/${track.id}`, { method: 'DELETE' }), 404)).toContain('no caption track');
    await waitFor('video.captions.removed', () =>
      stack.notifier.recent.find((e) => e.type === 'video.captions.removed' && e.subject === videoId),
    );
  });

  it('takes SubRip, and names a second track of the same label apart', async () => {
    const srt = '1\r\n00:00:00,500 --> 00:00:01,200\r\nHallo\r\n';
    const first = (await (await postCaptions('language=de', srt, 'application/x-subrip')).json()) as {
      id: string;
      label: string;
      cues: number;
    };
    const second = await postCaptions('language=de', srt, 'application/x-subrip');
    expect(second.status).toBe(201);
    expect(first).toMatchObject({ label: 'German', cues: 1 });
    expect(((await second.json()) as { label: string }).label).toBe('German (2)');
    expect(await (await api(`/v1/videos/${videoId}/hls/subs/${first.id}.vtt`)).text()).toContain('00:00:00.500 --> 00:00:01.200\nHallo\n');
  });

  it('refuses bad files with a 400 naming the line, and what is not a caption file', async () => {
    // The arrow of line 6 makes it a cue identifier; the parser then names the line where it wanted the timing.
    const broken = 'WEBVTT\n\n00:00.100 --> 00:00.900\nok\n\n00:01.000 -> 00:01.500\nbad arrow\n';
    expect(await problem(await postCaptions('language=fr', broken), 400)).toBe(
      'the caption file is not valid WebVTT: line 7: Cue identifier needs to be followed by timestamp; line 8: Cue identifier cannot be standalone',
    );
    const backwards = '1\n00:00:01,000 --> 00:00:00,500\nback\n';
    expect(await problem(await postCaptions('language=fr', backwards, 'application/x-subrip'), 400)).toBe(
      'the caption file is not valid SubRip: line 2: End timestamp is not greater than start timestamp',
    );
    expect(await problem(await postCaptions('language=fr', Uint8Array.from([0x57, 0x45, 0xff])), 400)).toBe(
      'the caption file is not UTF-8 text',
    );
    expect(await problem(await postCaptions('language=fr', 'WEBVTT\n\n00:09.000 --> 00:10.000\nlate\n'), 400)).toMatch(
      /^cue 1 starts at 9\.000 s, after the end of the video \(2\.\d+ s\)$/,
    );
    expect(await problem(await postCaptions('language=fr', FRENCH, 'text/html'), 415)).toContain('text/vtt or application/x-subrip');
    expect(await problem(await postCaptions('', FRENCH), 400)).toContain('language is required');
    expect(await problem(await postCaptions('language=fr_FR', FRENCH), 400)).toContain('is not a BCP 47 tag');
    expect(await problem(await postCaptions('language=fr&label=a%E2%80%AEb', FRENCH), 400)).toContain(
      'label contains a control or bidirectional',
    );
    expect(
      await problem(
        await api(`/v1/videos/${failedId}/captions?language=fr`, { method: 'POST', headers: { 'content-type': 'text/vtt' }, body: FRENCH }),
        409,
      ),
    ).toContain('is failed; captions can be added once it is ready');
  });

  it("another tenant's video is a 404; a playback token may list the tracks but not add one", async () => {
    expect((await postCaptions('language=fr', FRENCH, 'text/vtt', 'globex')).status).toBe(404);
    expect((await api(`/v1/videos/${videoId}/captions`, { as: 'globex' })).status).toBe(404);
    expect((await api(`/v1/videos/${videoId}/captions/1-en`, { method: 'DELETE', as: 'globex' })).status).toBe(404);
    const tokenRes = await api('/v1/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scope: 'playback', videoId }),
    });
    const { token } = (await tokenRes.json()) as { token: string };
    const withToken = { authorization: `Bearer ${token}` };
    expect((await api(`/v1/videos/${videoId}/captions`, { as: null, headers: withToken })).status).toBe(200);
    const post = await api(`/v1/videos/${videoId}/captions?language=fr`, {
      as: null,
      method: 'POST',
      headers: { ...withToken, 'content-type': 'text/vtt' },
      body: FRENCH,
    });
    expect(post.status).toBe(403);
  });

  // Last in the file: the API answers 413 before reading the whole body, and closes that connection.
  it('refuses a file over 1 MiB with a 413', async () => {
    expect(await problem(await postCaptions('language=fr', `WEBVTT\n\n${'x'.repeat(1024 * 1024)}`), 413)).toContain(
      'at most 1048576 bytes',
    );
  });
});
