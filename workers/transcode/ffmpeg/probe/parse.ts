import { jobError } from '../../../../core/job-errors.ts';
import type { PacketScan } from './run.ts';

export interface ProbeResult {
  format: string;
  /** Seconds of media really present (from the packets when they were scanned), not what the header claims. */
  duration: number;
  /** What the container's header claims, seconds. */
  headerDuration: number;
  startTime: number;
  bitRate?: number;
  video: {
    /** Absolute stream index, for `-map 0:N` / `[0:N]`. */
    index: number;
    codec: string;
    width: number;
    height: number;
    /** Clockwise display rotation, degrees (0, 90, 180, 270). */
    rotation: number;
    sampleAspectRatio: number;
    /** Frames per second really delivered (see chooseFrameRate); 0 when unknown. */
    frameRate: number;
    pixelFormat: string;
    /** `progressive`, `tt`, `bb`, `tb`, `bt` or `unknown`. */
    fieldOrder: string;
    /** Colour tags as ffprobe names them (`bt709`, `smpte2084`, `arib-std-b67`, `bt2020nc`, `tv`, `pc`…); empty when untagged. */
    colour: { transfer: string; primaries: string; matrix: string; range: string };
    /** Packets seen by the scan; undefined when the file was not scanned. */
    packets?: number;
  };
  /** The audio stream to use: the default one, else the first, among those with channels and data. */
  audio?: { index: number; codec: string; channels: number; sampleRate: number };
  /** Text subtitle tracks with packets, in stream order (at most MAX_TEXT_SUBTITLES); bitmap ones are a note. */
  subtitles: SubtitleStream[];
  /** What was ignored on the way and the user should know (an empty audio stream …). */
  notes: string[];
}

/** A text subtitle track of the source, as its tags say. */
export interface SubtitleStream {
  /** Absolute stream index, for `-map 0:N`. */
  index: number;
  codec: string;
  /** The container's language tag as written (ISO 639-2 like `eng`, or BCP 47 in newer Matroska). */
  language?: string;
  title?: string;
  default: boolean;
  forced: boolean;
}

/** Subtitle codecs ffmpeg turns into WebVTT. */
const TEXT_SUBTITLES = new Set(['mov_text', 'subrip', 'srt', 'ass', 'ssa', 'webvtt', 'text']);
const BITMAP_SUBTITLES: Record<string, string> = {
  hdmv_pgs_subtitle: 'PGS bitmap',
  dvd_subtitle: 'DVD bitmap',
  dvb_subtitle: 'DVB bitmap',
  xsub: 'XSUB bitmap',
};
/** Text tracks converted per source; a file with more is hostile or odd, and the rest are a note. */
export const MAX_TEXT_SUBTITLES = 16;

/** One stream as ffprobe's JSON describes it (only what reelay reads). */
export interface RawStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  codec_tag_string?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  time_base?: string;
  duration?: string;
  pix_fmt?: string;
  field_order?: string;
  color_transfer?: string;
  color_primaries?: string;
  color_space?: string;
  color_range?: string;
  channels?: number;
  sample_rate?: string;
  tags?: Record<string, string>;
  disposition?: Record<string, number>;
  side_data_list?: { rotation?: number }[];
}

/** ffprobe's `-show_format -show_streams` JSON. */
export interface RawProbe {
  streams?: RawStream[];
  format?: { format_name?: string; duration?: string; start_time?: string; bit_rate?: string };
}

function ratio(text: string | undefined): number {
  const [num, den] = (text ?? '').split(/[:/]/).map(Number);
  return num && den ? num / den : 0;
}

function finite(text: string | undefined): number {
  const n = Number(text);
  return Number.isFinite(n) ? n : 0;
}

/** Still-image codecs: one frame of one of these is a photo, not a video. */
const IMAGE_CODECS = new Set(['gif', 'png', 'apng', 'mjpeg', 'webp', 'bmp', 'tiff', 'jpeg2000', 'heic']);

export function parseProbe(raw: RawProbe, scan?: PacketScan): ProbeResult {
  const streams = raw.streams ?? [];
  if (!raw.format?.format_name) throw jobError('NO_CONTAINER');
  const packetsOf = (s: RawStream) => (scan && s.index !== undefined ? (scan.streams.get(s.index)?.packets ?? 0) : undefined);
  const videos = streams.filter((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  // A declared video track without samples (an editor's leftover) is not the video.
  const video = videos.find((s) => packetsOf(s) !== 0) ?? videos[0];
  if (!video) {
    throw jobError('NO_VIDEO_STREAM', { format: raw.format.format_name, onlyAudio: streams.some((st) => st.codec_type === 'audio') });
  }
  if (!video.codec_name || video.codec_name === 'unknown') {
    const tag = video.codec_tag_string && !video.codec_tag_string.includes('[') ? video.codec_tag_string : 'unknown';
    throw jobError('CODEC_UNKNOWN', describeCodec(tag));
  }
  if (!video.width || !video.height) throw jobError('NO_PICTURE_SIZE', video.codec_name);
  if (packetsOf(video) === 0) throw jobError('NO_FRAMES', video.codec_name);
  if (IMAGE_CODECS.has(video.codec_name) && (packetsOf(video) ?? 2) <= 1) throw jobError('SINGLE_PICTURE', video.codec_name);

  const notes: string[] = [];
  const audios = streams.filter((s) => s.codec_type === 'audio');
  const usable = audios.filter((s) => (s.channels ?? 0) > 0 && s.codec_name && s.codec_name !== 'unknown' && packetsOf(s) !== 0);
  const audio = usable.find((s) => s.disposition?.default) ?? usable[0];
  if (audios.length > 0 && !audio) notes.push('the audio track is empty or in an unknown format; the video has no sound');

  const subtitles = subtitleStreams(streams, packetsOf, notes);

  const sideRotation = video.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  // Older ffprobe reports the clockwise `rotate` tag; newer ones the display matrix, counter-clockwise.
  const rotation = video.tags?.rotate !== undefined ? Number(video.tags.rotate) : sideRotation !== undefined ? -sideRotation : 0;
  const sar = ratio(video.sample_aspect_ratio);
  const headerDuration = finite(raw.format.duration) || finite(video.duration);
  const spans = [video, ...(audio ? [audio] : [])].map((s) => scan?.streams.get(s.index ?? -1)).filter((s) => s !== undefined);
  const timed = spans.filter((s) => Number.isFinite(s.first));
  const scanned = timed.length > 0 ? Math.max(...timed.map((s) => s.end)) - Math.min(...timed.map((s) => s.first)) : 0;
  const frameRate = chooseFrameRate(video, scan?.streams.get(video.index ?? -1));
  const packets = packetsOf(video) ?? 0;
  // No timestamps and no header duration (an elementary stream): frames ÷ rate.
  const duration = scanned > 0 ? scanned : headerDuration || (packets > 1 && frameRate > 0 ? packets / frameRate : 0);
  const tag = (v: string | undefined) => (v && v !== 'unknown' && v !== 'unspecified' ? v : '');
  const result: ProbeResult = {
    format: raw.format.format_name,
    duration,
    headerDuration,
    startTime: finite(raw.format.start_time),
    video: {
      index: video.index ?? 0,
      codec: video.codec_name,
      width: video.width,
      height: video.height,
      rotation: ((Math.round(rotation) % 360) + 360) % 360,
      sampleAspectRatio: sar > 0 ? sar : 1,
      frameRate,
      pixelFormat: video.pix_fmt ?? 'unknown',
      fieldOrder: video.field_order ?? 'unknown',
      colour: {
        transfer: tag(video.color_transfer),
        primaries: tag(video.color_primaries),
        matrix: tag(video.color_space),
        range: tag(video.color_range),
      },
    },
    subtitles,
    notes,
  };
  const videoPackets = packetsOf(video);
  if (videoPackets !== undefined) result.video.packets = videoPackets;
  if (raw.format.bit_rate) result.bitRate = finite(raw.format.bit_rate);
  if (audio) {
    result.audio = {
      index: audio.index ?? 0,
      codec: audio.codec_name ?? 'unknown',
      channels: audio.channels ?? 0,
      sampleRate: finite(audio.sample_rate),
    };
  }
  if (scan?.endedEarly && headerDuration > duration * 1.5 + 1) {
    throw jobError('CUT_OFF', { seconds: duration, headerSeconds: headerDuration });
  }
  return result;
}

/** The text subtitle tracks to convert; a note for each one that is not (bitmap, unknown, over the cap). */
function subtitleStreams(streams: RawStream[], packetsOf: (s: RawStream) => number | undefined, notes: string[]): SubtitleStream[] {
  const found: SubtitleStream[] = [];
  for (const s of streams.filter((st) => st.codec_type === 'subtitle')) {
    const codec = s.codec_name ?? 'unknown';
    const lang = s.tags?.language?.trim();
    const name = `subtitle track ${s.index ?? '?'}${lang && /^[A-Za-z-]{2,12}$/.test(lang) ? ` (${lang})` : ''}`;
    if (!TEXT_SUBTITLES.has(codec)) {
      notes.push(`${name} (${BITMAP_SUBTITLES[codec] ?? codec}) was not converted: only text subtitles become captions`);
      continue;
    }
    // A declared track without a single cue makes no caption.
    if (packetsOf(s) === 0) continue;
    if (found.length === MAX_TEXT_SUBTITLES) {
      notes.push(`${name} was not converted: at most ${MAX_TEXT_SUBTITLES} subtitle tracks are`);
      continue;
    }
    found.push({
      index: s.index ?? 0,
      codec,
      ...(lang ? { language: lang } : {}),
      ...(s.tags?.title ? { title: s.tags.title } : {}),
      default: s.disposition?.default === 1,
      forced: s.disposition?.forced === 1,
    });
  }
  return found;
}

function describeCodec(tag: string): string {
  const known: Record<string, string> = { vvc1: 'VVC/H.266', vvi1: 'VVC/H.266', av01: 'AV1', apv1: 'APV' };
  return known[tag] ? `${known[tag]} (${tag})` : `in an unknown codec (${tag})`;
}

/**
 * The frame rate a stream really delivers. `avg_frame_rate` is the truth when the container
 * knows it (`r_frame_rate` when the two are within 5 %); `r_frame_rate` is the fallback. Either may be the container's timebase in
 * disguise (1000/1 in Matroska and FLV): such a value is discarded. When the scan counted the
 * packets, packets ÷ span is used if nothing plausible is declared or the declared rate is more
 * than 4× off (field-coded interlaced video has two packets a frame, so ×2 is normal).
 */
export function chooseFrameRate(video: RawStream, scanned?: { packets: number; first: number; end: number }): number {
  const timebaseRate = 1 / (ratio(video.time_base) || 1);
  const plausible = (r: number) => r > 0 && r <= 10_000 && !(timebaseRate >= 1000 && Math.abs(r - timebaseRate) < 0.5);
  const [avg, nominal] = [ratio(video.avg_frame_rate), ratio(video.r_frame_rate)];
  // Variable-rate phone video averages a little off its nominal rate (29.87 for 29.83, 31.0 for 29.97): the nominal one is meant.
  const close = plausible(avg) && plausible(nominal) && Math.abs(avg - nominal) / nominal < 0.05;
  const declared = close ? nominal : ([avg, nominal].find(plausible) ?? 0);
  const span = scanned && Number.isFinite(scanned.first) ? scanned.end - scanned.first : 0;
  const counted = scanned && scanned.packets > 1 && span > 0 ? scanned.packets / span : 0;
  if (!counted) return declared;
  if (!declared || declared / counted > 4 || counted / declared > 4) return counted;
  return declared;
}
