import webvtt, { type TreeNode } from 'webvtt-parser';
import { cleanClientText } from './client-text.ts';
import { writeMasterPlaylist } from './hls-playlist.ts';
import type { CaptionTrack, HlsInfo } from './video-status.ts';

// A CommonJS module that assigns its exports at run time: Node sees no named exports.
const { WebVTTParser } = webvtt;

/**
 * WebVTT's named character references. The parser's own default table has them without `;`, and then turns
 * `&amp;` into `&;` (it matches `&amp` and keeps the rest): with both spellings it finds the exact one.
 */
const ENTITIES = Object.fromEntries(
  Object.entries({ '&amp': '&', '&lt': '<', '&gt': '>', '&lrm': '\u200e', '&rlm': '\u200f', '&nbsp': '\u00a0' }).flatMap(([k, v]) => [
    [k, v],
    [`${k};`, v],
  ]),
) as Record<`&${string}`, string>;

/**
 * The one rule for caption text, whether it came in the source file (extracted by ffmpeg) or was uploaded:
 * the file is parsed by webvtt-parser (the W3C's), SubRip first rewritten to WebVTT, and a new file is written
 * from the parse tree: cue times formatted here, cue text rebuilt from text nodes and the harmless WebVTT
 * tags only, every line cleaned by the client-text rule. Nothing of the original file reaches a player but
 * that text.
 */

export const CAPTION_LIMITS = {
  /** Largest caption file accepted, bytes. */
  maxBytes: 1024 * 1024,
  maxCues: 5000,
  /** Characters of one cue's text (tags not counted). */
  maxCueChars: 500,
  /** Caption tracks one video may have, embedded and uploaded together. */
  maxTracks: 20,
} as const;

export interface CleanCue {
  start: number;
  end: number;
  /** WebVTT cue text: escaped text, `<i>`/`<b>`/`<u>`/`<c>`/`<v name>`/`<lang>`/`<ruby>`/`<rt>` only; lines joined by `\n`. */
  text: string;
}

export type CaptionParse = { ok: true; cues: CleanCue[] } | { ok: false; problems: string[] };

/** The parser's messages that mean the file's structure or timing is broken (the rest are tags and settings, dropped). */
const FATAL =
  /signature|No blank line after|Cue identifier|Blank line missing|No timestamp|time unit|decimal separator|two digits|three digits|more than 59|No seconds|timestamp separator|'-->'|from '-->'|trailing characters|start with a character|End timestamp is not greater/;

/** UTF-8 text of an uploaded file, BOM removed; undefined when the bytes are not UTF-8. */
export function decodeCaptionBytes(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * SubRip → WebVTT, keeping line numbers two apart (the header and its blank line come first, so a
 * parser's line N is the SubRip file's line N − 2): the decimal comma of timing lines becomes a point.
 */
export function srtToVtt(text: string): string {
  const lines = text
    .split(/\r\n|\r|\n/)
    .map((line) => (/^\s*\d+:\d\d:\d\d,\d{1,3}\s+-->/.test(line) ? line.replace(/,(\d{1,3})/g, '.$1') : line));
  return `WEBVTT\n\n${lines.join('\n')}`;
}

/**
 * Parses a caption file (`vtt` or `srt`) and rebuilds its cues under the rule above. Problems name the
 * line of the file as uploaded (the first five).
 */
export function parseCaptions(
  text: string,
  format: 'vtt' | 'srt',
  limits: { maxCues: number; maxCueChars: number } = CAPTION_LIMITS,
): CaptionParse {
  const body = text.replace(/^\ufeff/, '');
  const vtt = format === 'srt' ? srtToVtt(body) : body;
  const shift = format === 'srt' ? 2 : 0;
  const parsed = new WebVTTParser(ENTITIES).parse(vtt, 'subtitles');
  const fatal = parsed.errors.filter((e) => FATAL.test(e.message));
  if (fatal.length > 0)
    return { ok: false, problems: fatal.slice(0, 5).map((e) => `line ${Math.max(1, e.line - shift)}: ${e.message.replace(/\.$/, '')}`) };
  if (parsed.cues.length === 0) return { ok: false, problems: ['the file has no cues'] };
  if (parsed.cues.length > limits.maxCues)
    return { ok: false, problems: [`the file has ${parsed.cues.length} cues; at most ${limits.maxCues} are accepted`] };
  const cues: CleanCue[] = [];
  for (const [i, cue] of parsed.cues.entries()) {
    const lines = rebuild(cue.tree.children)
      .split('\n')
      .map((line) => cleanClientText(line, Number.MAX_SAFE_INTEGER) ?? '')
      .filter((line) => line.length > 0);
    const chars = lines.join('').replace(/<[^>]*>/g, '').length;
    if (chars > limits.maxCueChars)
      return {
        ok: false,
        problems: [`cue ${i + 1} (at ${timestamp(cue.startTime)}) has ${chars} characters; at most ${limits.maxCueChars} are accepted`],
      };
    if (lines.length > 0) cues.push({ start: cue.startTime, end: cue.endTime, text: lines.join('\n') });
  }
  if (cues.length === 0) return { ok: false, problems: ['the file has no cue with text'] };
  cues.sort((a, b) => a.start - b.start || a.end - b.end);
  return { ok: true, cues };
}

const KEPT_TAGS = new Set(['i', 'b', 'u', 'c', 'v', 'lang', 'ruby', 'rt']);

/** Cue text from the parse tree: escaped text and the kept tags (no classes; `v` keeps a cleaned speaker name). */
function rebuild(nodes: readonly TreeNode<'v' | 'lang' | 'c' | 'i' | 'b' | 'u' | 'ruby' | 'rt'>[]): string {
  let out = '';
  for (const node of nodes) {
    if (node.type === 'text') out += escape(node.value);
    else if (node.type === 'object') {
      const inner = rebuild(node.children);
      if (!KEPT_TAGS.has(node.name)) {
        out += inner;
        continue;
      }
      const annotation =
        node.name === 'v' || node.name === 'lang'
          ? cleanClientText(node.value.replace(/[<>&]/g, ''), 100)?.replace(/\s+/g, ' ')
          : undefined;
      if (node.name === 'lang' && !(annotation && isLanguageTag(annotation))) out += inner;
      else out += `<${node.name}${annotation ? ` ${annotation}` : ''}>${inner}</${node.name}>`;
    }
    // Inner timestamps (karaoke) are dropped.
  }
  return out;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `hh:mm:ss.mmm`. */
export function timestamp(seconds: number): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

/**
 * The WebVTT file reelay stores and serves. `X-TIMESTAMP-MAP` maps cue time 0 to the start of the media
 * timeline (RFC 8216 §3.5; harmless for fMP4, wanted by Safari's native player).
 */
export function writeVtt(cues: readonly CleanCue[]): string {
  const blocks = cues.map((c) => `${timestamp(c.start)} --> ${timestamp(c.end)}\n${c.text}`);
  return `WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n${blocks.join('\n\n')}\n`;
}

/** An HLS subtitles media playlist (RFC 8216) whose one segment is the whole WebVTT file. */
export function subtitlePlaylist(vttFile: string, duration: number): string {
  const seconds = Math.max(duration, 0.001);
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${Math.ceil(seconds)}`,
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-MEDIA-SEQUENCE:0',
    `#EXTINF:${seconds.toFixed(3)},`,
    vttFile,
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
}

/** BCP 47, as far as captions need it: a 2–3 letter language, then subtags (`fr`, `pt-BR`, `zh-Hant`, `es-419`). */
export function isLanguageTag(tag: string): boolean {
  if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/i.test(tag) || /^und$/i.test(tag)) return false;
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}

/** A language tag in its canonical form (`FR-ca` → `fr-CA`, `fra` → `fr`). */
export function canonicalLanguage(tag: string): string {
  return Intl.getCanonicalLocales(tag)[0] ?? tag;
}

/** ISO 639-2/B codes (Matroska's and MP4's tags) that ICU does not map itself. */
const BIBLIOGRAPHIC: Record<string, string> = {
  alb: 'sq',
  arm: 'hy',
  baq: 'eu',
  bur: 'my',
  chi: 'zh',
  cze: 'cs',
  dut: 'nl',
  fre: 'fr',
  geo: 'ka',
  ger: 'de',
  gre: 'el',
  ice: 'is',
  mac: 'mk',
  mao: 'mi',
  may: 'ms',
  per: 'fa',
  rum: 'ro',
  slo: 'sk',
  tib: 'bo',
  wel: 'cy',
};

/** The BCP 47 tag of a source track's ISO 639-2 language (`eng` → `en`, `ger` → `de`); undefined for `und` or nonsense. */
export function languageFromTrackTag(code: string | undefined): string | undefined {
  const tag = code?.trim().toLowerCase();
  if (!tag) return undefined;
  const mapped = BIBLIOGRAPHIC[tag] ?? tag;
  return isLanguageTag(mapped) ? canonicalLanguage(mapped) : undefined;
}

/** The language's name in English (`fr` → `French`), for a track without a label. */
export function languageName(tag: string | undefined): string {
  if (!tag) return 'Unknown language';
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(tag) ?? tag;
  } catch {
    return tag;
  }
}

/** Where a track's files live, relative to the HLS master. */
export const CAPTIONS_DIR = 'subs';

export function captionFiles(id: string): { vtt: string; playlist: string } {
  return { vtt: `${CAPTIONS_DIR}/${id}.vtt`, playlist: `${CAPTIONS_DIR}/${id}.m3u8` };
}

/**
 * The master playlist of a presentation with its caption tracks: derived from the status document (its
 * measured variants and its captions), never edited as text, so the worker and the captions routes write
 * the same file.
 */
export function presentationMaster(hls: Pick<HlsInfo, 'variants'>, captions: readonly CaptionTrack[] = []): string {
  return writeMasterPlaylist(
    hls.variants.map((v) => ({ ...v, uri: v.playlist })),
    captions.map((c) => ({
      uri: captionFiles(c.id).playlist,
      name: c.label,
      ...(c.language ? { language: c.language } : {}),
      ...(c.default ? { default: true } : {}),
      ...(c.forced ? { forced: true } : {}),
    })),
  );
}

/** `label`, or `label (2)`, `label (3)` … : a NAME not yet taken among `taken` (RFC 8216 wants them unique in a group). */
export function uniqueLabel(label: string, taken: readonly string[]): string {
  const used = new Set(taken.map((t) => t.toLowerCase()));
  if (!used.has(label.toLowerCase())) return label;
  for (let n = 2; ; n++) if (!used.has(`${label} (${n})`.toLowerCase())) return `${label} (${n})`;
}
