import { describe, expect, it } from 'vitest';
import {
  decodeCaptionBytes,
  isLanguageTag,
  languageFromTrackTag,
  parseCaptions,
  presentationMaster,
  uniqueLabel,
  writeVtt,
} from './captions.ts';

describe('parseCaptions', () => {
  it('names the lines of a broken WebVTT file', () => {
    const vtt = 'WEBVTT\n\n00:00.500 --> 00:02.000\nfine\n\n1\n00:02.000 -> 00:03.000\nbad arrow\n\n00:xx.000 --> 00:04.000\nbad time\n';
    const result = parseCaptions(vtt, 'vtt');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]).toBe('line 7: Cue identifier needs to be followed by timestamp');
    expect(result.problems).toContain('line 10: Must be exactly two digits');
  });

  it('names the SubRip line (not the rewritten one) of a cue that ends before it starts', () => {
    const srt = '1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:00:06,000 --> 00:00:05,000\nbackwards\n';
    expect(parseCaptions(srt, 'srt')).toEqual({ ok: false, problems: ['line 6: End timestamp is not greater than start timestamp'] });
  });

  it('refuses a file that is not WebVTT, and one without cues', () => {
    expect(parseCaptions('hello', 'vtt')).toMatchObject({ ok: false, problems: [expect.stringMatching(/^line 1: No valid signature/)] });
    expect(parseCaptions('WEBVTT\n\n', 'vtt')).toEqual({ ok: false, problems: ['the file has no cues'] });
  });

  it('keeps text and the harmless tags only: no markup, controls or bidi overrides reach a player', () => {
    const vtt =
      'WEBVTT\n\n00:00.500 --> 00:02.000 align:start\n' +
      'Hello <i>world</i> <script>alert(1)</script> <img src=x onerror=y> &amp; &lt;b&gt; \u202Eevil\u2028x\n' +
      '<v.loud Bob>hey</v> <c.red>c</c> <lang en>l</lang> <00:00:01.000>k\n';
    const result = parseCaptions(vtt, 'vtt');
    expect(result).toEqual({
      ok: true,
      cues: [
        {
          start: 0.5,
          end: 2,
          text: 'Hello <i>world</i> alert(1)  &amp; &lt;b&gt; evilx\n<v Bob>hey</v> <c>c</c> <lang en>l</lang> k',
        },
      ],
    });
  });

  it('caps the cues and the characters of a cue', () => {
    const cues = Array.from({ length: 4 }, (_, i) => `00:0${i}.000 --> 00:0${i}.500\ncue ${i}`).join('\n\n');
    expect(parseCaptions(`WEBVTT\n\n${cues}\n`, 'vtt', { maxCues: 3, maxCueChars: 500 })).toEqual({
      ok: false,
      problems: ['the file has 4 cues; at most 3 are accepted'],
    });
    expect(parseCaptions(`WEBVTT\n\n00:01.000 --> 00:02.000\n${'x'.repeat(11)}\n`, 'vtt', { maxCues: 3, maxCueChars: 10 })).toEqual({
      ok: false,
      problems: ['cue 1 (at 00:00:01.000) has 11 characters; at most 10 are accepted'],
    });
  });

  it('writes a canonical file reelay serves', () => {
    const result = parseCaptions('1\r\n00:00:01,500 --> 00:00:02,250\r\n<b>Hi</b>\r\n', 'srt');
    expect(result.ok && writeVtt(result.cues)).toBe(
      'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n00:00:01.500 --> 00:00:02.250\n<b>Hi</b>\n',
    );
  });
});

describe('caption helpers', () => {
  it('decodes UTF-8 only', () => {
    expect(decodeCaptionBytes(new TextEncoder().encode('WEBVTT é'))).toBe('WEBVTT é');
    expect(decodeCaptionBytes(Uint8Array.from([0x57, 0xff, 0xfe]))).toBeUndefined();
  });

  it('validates and maps language tags', () => {
    for (const ok of ['fr', 'pt-BR', 'zh-Hant', 'es-419', 'fil']) expect(isLanguageTag(ok)).toBe(true);
    for (const bad of ['', 'f', 'und', 'fr_FR', 'fr-', 'en"', 'x<y', 'english']) expect(isLanguageTag(bad)).toBe(false);
    expect(['eng', 'fre', 'fra', 'ger', 'und', 'zzz-"'].map(languageFromTrackTag)).toEqual(['en', 'fr', 'fr', 'de', undefined, undefined]);
  });

  it('keeps NAMEs unique and writes the master from the status', () => {
    expect(uniqueLabel('English', ['english', 'English (2)'])).toBe('English (3)');
    const variant = {
      name: '360p',
      playlist: '360p/index.m3u8',
      width: 640,
      height: 360,
      bandwidth: 900_000,
      averageBandwidth: 800_000,
      codecs: 'avc1.64001e,mp4a.40.2',
      frameRate: 30,
      segments: 1,
      duration: 3,
    };
    const caption = { id: 'u1-fr', language: 'fr', label: 'Français', source: 'uploaded' as const, cues: 1, bytes: 10, addedAt: '' };
    expect(presentationMaster({ variants: [variant] }, [caption])).toBe(
      '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n' +
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="fr",NAME="Français",DEFAULT=NO,AUTOSELECT=YES,URI="subs/u1-fr.m3u8"\n' +
        '#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=30.000,SUBTITLES="subs"\n' +
        '360p/index.m3u8\n',
    );
    expect(presentationMaster({ variants: [variant] })).not.toContain('SUBTITLES');
  });
});
