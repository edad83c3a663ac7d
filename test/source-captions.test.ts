import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { locateFfmpeg } from '../core/ffmpeg/locate.ts';
import { runFfmpeg } from '../workers/transcode/ffmpeg/transcode.ts';
import { preparePlayback } from '../workers/transcode/playback-files.ts';
import { addSourceCaptions } from '../workers/transcode/source-captions.ts';
import { transcodeFile } from '../workers/transcode/transcode-file.ts';

/**
 * #24 part 1: the source's text subtitle tracks come out of the one ffmpeg pass as WebVTT, cleaned, with a
 * subtitles playlist each and a SUBTITLES group in the master; bitmap tracks are a note. Real ffmpeg, sources
 * made here (MP4 + mov_text, MKV + SubRip + ASS). Bitmap tracks are a note (probe/parse.test.ts): ffmpeg
 * 5.1 cannot make one from text to test with.
 */
const run = promisify(execFile);
const binaries = locateFfmpeg({ searchPath: process.env.PATH });
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'reelay-captions-'));
  await writeFile(
    at('en.srt'),
    '1\n00:00:00,500 --> 00:00:01,500\nHello <i>world</i>\n\n2\n00:00:01,800 --> 00:00:02,600\nSecond <script>x</script>line\n',
  );
  await writeFile(
    at('fr.ass'),
    [
      '[Script Info]',
      'ScriptType: v4.00+',
      '',
      '[V4+ Styles]',
      'Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding',
      'Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,1',
      '',
      '[Events]',
      'Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text',
      'Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Bonjour {\\i1}le monde{\\i0}\\NDeuxième ligne',
      '',
    ].join('\n'),
  );
  // A 3 s picture and tone with the given subtitle files as streams 2, 3 …
  const withSubtitles = (...files: string[]) => [
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=3', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3'],
    ...files.flatMap((f) => ['-i', at(f)]),
    ...['-map', '0:v', '-map', '1:a', ...files.flatMap((_, i) => ['-map', `${i + 2}:s`])],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac'],
  ];
  await ff(...withSubtitles('en.srt'), '-c:s', 'mov_text', '-metadata:s:s:0', 'language=eng', at('movtext.mp4'));
  await ff(
    ...withSubtitles('en.srt', 'fr.ass'),
    ...['-c:s', 'copy', '-metadata:s:s:0', 'language=eng', '-metadata:s:s:1', 'language=fre'],
    ...['-metadata:s:s:1', 'title=Français "cinéma"', '-disposition:s:1', 'default'],
    at('srt-ass.mkv'),
  );
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function at(name: string): string {
  return path.join(dir, name);
}
function ff(...args: string[]) {
  return run(binaries.ffmpeg.path, ['-v', 'error', '-y', ...args]);
}

/** What the worker does with a source: the pass, the HLS files, then the captions (as transcodeVideo runs them). */
async function transcode(name: string) {
  const outDir = at(`${name}.out`);
  const argv: string[][] = [];
  const result = await transcodeFile(at(name), outDir, {
    binaries,
    preset: 'veryfast',
    threads: 2,
    logger: silentLogger(),
    runCommand: (cmd) => {
      argv.push(cmd.outputs.flatMap((o) => o.options));
      return runFfmpeg(cmd, { ffmpegPath: binaries.ffmpeg.path });
    },
  });
  const playback = await preparePlayback(result.plan, { outDir, videoId: '01JTESTCAPTIONS0000000000', duration: result.probe.duration });
  const captions = await addSourceCaptions(result.captions, playback.hls, { outDir, duration: result.probe.duration });
  const read = (file: string) => readFile(path.join(outDir, 'hls', file), 'utf8');
  return { ...result, captions, argv, read, outDir };
}

describe('subtitle tracks of the source', () => {
  it('turns an MP4 mov_text track into WebVTT in the same ffmpeg pass, with a subtitles playlist and the master group', async () => {
    const { captions, argv, read, notes } = await transcode('movtext.mp4');
    // One ffmpeg run, the subtitle output among the others. (ffmpeg flags an MP4's only subtitle track default: DEFAULT=YES.)
    expect(argv).toHaveLength(1);
    expect(argv[0]!.join(' ')).toContain('-c:s webvtt -f webvtt');
    expect(captions.captions).toEqual([
      expect.objectContaining({ id: '1-en', language: 'en', label: 'English', source: 'embedded', cues: 2 }),
    ]);
    expect(notes).toEqual([]);
    const vtt = await read('subs/1-en.vtt');
    expect(vtt).toBe(
      'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n' +
        '00:00:00.500 --> 00:00:01.500\nHello <i>world</i>\n\n' +
        '00:00:01.800 --> 00:00:02.600\nSecond xline\n',
    );
    const playlist = await read('subs/1-en.m3u8');
    expect(playlist).toContain('#EXT-X-PLAYLIST-TYPE:VOD\n');
    expect(playlist).toMatch(/#EXTINF:3\.\d{3},\n1-en\.vtt\n#EXT-X-ENDLIST\n$/);
    const master = await read('master.m3u8');
    expect(master).toContain(
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,URI="subs/1-en.m3u8"\n',
    );
    const variants = master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF:'));
    expect(variants.length).toBeGreaterThan(0);
    for (const v of variants) expect(v).toMatch(/,SUBTITLES="subs"$/);
  }, 120_000);

  it('converts SubRip and ASS tracks of an MKV, with languages, titles and the default flag from the file', async () => {
    const { captions, read } = await transcode('srt-ass.mkv');
    expect(captions.captions.map(({ id, language, label, default: isDefault }) => ({ id, language, label, isDefault }))).toEqual([
      { id: '1-en', language: 'en', label: 'English', isDefault: undefined },
      { id: '2-fr', language: 'fr', label: 'Français "cinéma"', isDefault: true },
    ]);
    // Shifted like the video by the input's start offset (AAC priming in the MKV: a few tens of ms).
    expect(await read('subs/2-fr.vtt')).toMatch(/\n00:00:01\.0\d\d --> 00:00:02\.0\d\d\nBonjour <i>le monde<\/i>\nDeuxième ligne\n$/);
    const master = await read('master.m3u8');
    // A quoted-string cannot hold `"`.
    expect(master).toContain(
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="fr",NAME="Français 'cinéma'",DEFAULT=YES,AUTOSELECT=YES,URI="subs/2-fr.m3u8"`,
    );
  }, 120_000);
});
