/**
 * HLS playlist text (RFC 8216): reading the media playlists ffmpeg writes,
 * writing the master playlist that lists them, and rewriting URIs so a
 * player carries its access token from one file to the next.
 */

export interface MediaSegment {
  uri: string;
  /** `#EXTINF` duration, seconds. */
  duration: number;
}

export interface MediaPlaylist {
  targetDuration: number;
  /** `#EXT-X-MAP` URI (fMP4 init segment), when present. */
  map?: string;
  segments: MediaSegment[];
  endList: boolean;
}

/** Parses a media playlist; throws on text that is not one. */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines[0] !== '#EXTM3U') throw new Error('not an HLS playlist: the first line is not #EXTM3U');
  const playlist: MediaPlaylist = { targetDuration: 0, segments: [], endList: false };
  let pending: number | undefined;
  for (const line of lines) {
    if (line.startsWith('#EXT-X-TARGETDURATION:')) playlist.targetDuration = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-MAP:')) playlist.map = attribute(line, 'URI');
    else if (line.startsWith('#EXTINF:')) pending = Number.parseFloat(line.slice(8));
    else if (line === '#EXT-X-ENDLIST') playlist.endList = true;
    else if (line && !line.startsWith('#')) {
      if (pending === undefined || !Number.isFinite(pending)) throw new Error(`segment ${line} has no #EXTINF duration`);
      playlist.segments.push({ uri: line, duration: pending });
      pending = undefined;
    }
  }
  return playlist;
}

function attribute(line: string, name: string): string | undefined {
  const match = new RegExp(`[:,]${name}=(?:"([^"]*)"|([^,]*))`).exec(line);
  return match ? (match[1] ?? match[2]) : undefined;
}

/**
 * A media playlist as reelay stores it. `EVENT` while the video encodes (it only grows; no ENDLIST, so
 * players reload it); `VOD` with `#EXT-X-ENDLIST` once every segment is written. The target duration is
 * fixed from the start (at least `minTargetDuration`), as RFC 8216 §6.2.1 wants of a playlist that grows.
 */
export function writeMediaPlaylist({
  type,
  map,
  segments,
  minTargetDuration,
}: {
  type: 'EVENT' | 'VOD';
  map: string;
  segments: readonly MediaSegment[];
  minTargetDuration: number;
}): string {
  const target = Math.max(minTargetDuration, ...segments.map((s) => Math.round(s.duration)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    `#EXT-X-PLAYLIST-TYPE:${type}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-MAP:URI="${map}"`,
    ...segments.flatMap((s) => [`#EXTINF:${s.duration.toFixed(6)},`, s.uri]),
    ...(type === 'VOD' ? ['#EXT-X-ENDLIST'] : []),
  ];
  return `${lines.join('\n')}\n`;
}

export interface Variant {
  /** URI of the variant's media playlist, relative to the master. */
  uri: string;
  /** Peak segment bit rate, bits per second (RFC 8216 §4.3.4.2). */
  bandwidth: number;
  /** Measured average; left out of a master written before the segments exist (while the video encodes). */
  averageBandwidth?: number;
  width: number;
  height: number;
  /** RFC 6381 codec strings, e.g. `avc1.64001f,mp4a.40.2`. */
  codecs: string;
  frameRate: number;
}

/** A subtitles rendition (RFC 8216 §4.3.4.1): one `EXT-X-MEDIA:TYPE=SUBTITLES` line of the group `subs`. */
export interface SubtitleRendition {
  /** URI of its subtitles playlist, relative to the master. */
  uri: string;
  /** Unique in the group. */
  name: string;
  /** BCP 47. */
  language?: string;
  default?: boolean;
  forced?: boolean;
}

export const SUBTITLES_GROUP = 'subs';

/**
 * The master playlist, variants sorted by bandwidth (players start from the first). With subtitles, each
 * is an `EXT-X-MEDIA` line of one group that every variant names.
 */
export function writeMasterPlaylist(variants: readonly Variant[], subtitles: readonly SubtitleRendition[] = []): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  // A quoted-string may not hold `"`, CR or LF (§4.2).
  const quoted = (text: string) => `"${text.replace(/"/g, "'").replace(/[\r\n]/g, ' ')}"`;
  for (const s of subtitles) {
    const attrs = [
      'TYPE=SUBTITLES',
      `GROUP-ID="${SUBTITLES_GROUP}"`,
      ...(s.language ? [`LANGUAGE=${quoted(s.language)}`] : []),
      `NAME=${quoted(s.name)}`,
      `DEFAULT=${s.default ? 'YES' : 'NO'}`,
      'AUTOSELECT=YES',
      ...(s.forced ? ['FORCED=YES'] : []),
      `URI=${quoted(s.uri)}`,
    ];
    lines.push(`#EXT-X-MEDIA:${attrs.join(',')}`);
  }
  for (const v of [...variants].sort((a, b) => a.bandwidth - b.bandwidth)) {
    const attrs = [
      `BANDWIDTH=${Math.round(v.bandwidth)}`,
      ...(v.averageBandwidth !== undefined ? [`AVERAGE-BANDWIDTH=${Math.round(v.averageBandwidth)}`] : []),
      `RESOLUTION=${v.width}x${v.height}`,
      `CODECS="${v.codecs}"`,
      `FRAME-RATE=${v.frameRate.toFixed(3)}`,
      ...(subtitles.length > 0 ? [`SUBTITLES="${SUBTITLES_GROUP}"`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Peak and average bit rate of a variant from its segments and their sizes
 * (the init segment's bytes count towards the first segment, as a player
 * fetches both before it can play).
 */
export function variantBitrates(segments: readonly (MediaSegment & { bytes: number })[], initBytes = 0): { peak: number; average: number } {
  let peak = 0;
  let bytes = initBytes;
  let seconds = 0;
  segments.forEach((s, i) => {
    bytes += s.bytes;
    seconds += s.duration;
    // A very short last segment says little about the peak; it still counts in the average.
    if (s.duration >= 0.5 || segments.length === 1)
      peak = Math.max(peak, ((s.bytes + (i === 0 ? initBytes : 0)) * 8) / Math.max(s.duration, 0.001));
  });
  return { peak: Math.ceil(peak), average: seconds > 0 ? Math.ceil((bytes * 8) / seconds) : 0 };
}

/**
 * RFC 6381 `avc1.PPCCLL` read from the `avcC` box of an fMP4 init segment (or
 * an MP4): profile, constraint flags and level exactly as the encoder wrote
 * them (x264 may signal a lower profile than asked, e.g. Constrained Baseline).
 */
export function avcCodecFromInit(init: Uint8Array): string {
  const at = Buffer.from(init.buffer, init.byteOffset, init.byteLength).indexOf('avcC');
  if (at < 0 || at + 8 > init.length || init[at + 4] !== 1) throw new Error('no H.264 decoder configuration (avcC) in the init segment');
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `avc1.${hex(init[at + 5]!)}${hex(init[at + 6]!)}${hex(init[at + 7]!)}`;
}

/** AAC-LC, the only audio reelay writes. */
export const AAC_LC_CODEC = 'mp4a.40.2';

/**
 * Appends `query` (e.g. `token=…`) to every URI of a playlist: segment and
 * variant lines and `URI="…"` attributes. Relative URIs lose the page's query
 * string when resolved, so without this a token would reach only the first file.
 */
export function appendQueryToUris(text: string, query: string): string {
  if (!query) return text;
  const add = (uri: string) => (/^[a-z][a-z0-9+.-]*:/i.test(uri) ? uri : `${uri}${uri.includes('?') ? '&' : '?'}${query}`);
  return text
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (!trimmed) return line;
      if (trimmed.startsWith('#')) return line.replace(/URI="([^"]*)"/g, (_, uri: string) => `URI="${add(uri)}"`);
      return add(trimmed);
    })
    .join('\n');
}
