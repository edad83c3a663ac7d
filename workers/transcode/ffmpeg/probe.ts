import { execFile, spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { TransientJobError } from '../../../core/errors.ts';
import { jobError } from '../../../core/job-errors.ts';
import { AUDIO_DEMUXERS, fileInput, INPUT_HARDENING } from './hardening.ts';

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
  /** What was ignored on the way and the user should know (an empty audio stream …). */
  notes: string[];
}

interface RawStream {
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

/** What a scan of every packet found, per stream index. */
export interface PacketScan {
  streams: Map<number, { packets: number; first: number; end: number }>;
  /** The demuxer hit the end of the file before the container said it would. */
  endedEarly: boolean;
}

interface RawProbe {
  streams?: RawStream[];
  format?: { format_name?: string; duration?: string; start_time?: string; bit_rate?: string };
}

/** Keeps the last `max` characters of ffmpeg's stderr, on a line boundary. */
export function stderrTail(stderr: string, max = 600): string {
  const text = stderr.trim();
  if (text.length <= max) return text;
  const cut = text.slice(-max);
  const nl = cut.indexOf('\n');
  return nl >= 0 ? cut.slice(nl + 1) : cut;
}

function ratio(text: string | undefined): number {
  const [num, den] = (text ?? '').split(/[:/]/).map(Number);
  return num && den ? num / den : 0;
}

function finite(text: string | undefined): number {
  const n = Number(text);
  return Number.isFinite(n) ? n : 0;
}

/**
 * Probes an uploaded file with ffprobe (JSON output) under the input hardening
 * rules, then (`scan`, the default for uploads) reads every packet's timestamp
 * without decoding, so the duration, the frame rate and empty streams are
 * judged on what the file holds rather than on what its header claims. A file
 * ffprobe cannot read, or without a video stream, is a PermanentJobError.
 */
export async function probeMedia(
  file: string,
  {
    ffprobePath,
    signal,
    timeoutMs = 60_000,
    untrusted = true,
    scan = untrusted,
  }: {
    ffprobePath: string;
    signal?: AbortSignal;
    timeoutMs?: number;
    /** False only for files reelay wrote itself. */
    untrusted?: boolean;
    /** Read every packet's timestamps (no decoding); defaults to `untrusted`. */
    scan?: boolean;
  },
): Promise<ProbeResult> {
  const hardening = untrusted ? INPUT_HARDENING : ['-protocol_whitelist', 'file'];
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...hardening, '-i', fileInput(file)];
  // The packet scan runs beside the header probe (each is mostly ffprobe starting up and reading the file),
  // and is stopped if the header probe refuses the file.
  const stopScan = new AbortController();
  const scanning = scan
    ? scanPackets(file, {
        ffprobePath,
        signal: signal ? AbortSignal.any([signal, stopScan.signal]) : stopScan.signal,
        timeoutMs: timeoutMs * 4,
      })
    : undefined;
  try {
    const { stdout } = await runProbe(ffprobePath, args, { signal, timeoutMs }).catch(async (err: ProbeFailure) => {
      throw await explainProbeFailure(file, err);
    });
    const raw = JSON.parse(stdout) as RawProbe;
    return parseProbe(raw, await scanning);
  } finally {
    stopScan.abort();
    await scanning;
  }
}

interface ProbeFailure extends Error {
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
}

function runProbe(ffprobePath: string, args: string[], { signal, timeoutMs }: { signal?: AbortSignal | undefined; timeoutMs: number }) {
  return new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      ffprobePath,
      args,
      { signal, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        reject(
          Object.assign(err, {
            stderr,
            timedOut: (err as { killed?: boolean }).killed === true && !signal?.aborted,
            aborted: signal?.aborted === true,
          }),
        );
      },
    );
  });
}

/** The permanent (or, when aborted, transient) error for an ffprobe that did not succeed; stderr stays in `cause`. */
async function explainProbeFailure(file: string, err: ProbeFailure): Promise<Error> {
  if (err.aborted) return new TransientJobError('probe aborted', { cause: err });
  if (err.timedOut) return jobError('PROBE_TIMEOUT').causedBy(err);
  const stderr = err.stderr ?? '';
  const refused = /\[(\w+) @ [^\]]*\] Format not on whitelist/.exec(stderr);
  if (refused) return refusedFormat(refused[1]!, err);
  const codec = /Codec \((\w+)\) not on whitelist/.exec(stderr);
  if (codec) return jobError('CODEC_REFUSED', codec[1]!).causedBy(err);
  if (/moov atom not found/.test(stderr)) {
    return (await isHeifImage(file)) ? jobError('HEIF_PHOTO').causedBy(err) : jobError('MOOV_MISSING').causedBy(err);
  }
  return jobError('UNREADABLE').causedBy(err);
}

/** Major brands of HEIF/AVIF still images: an MP4-like box layout, but a photo. */
const HEIF_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'mif1', 'msf1', 'avif', 'avis']);

async function isHeifImage(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(12);
    await handle.read(head, 0, 12, 0);
    return head.toString('latin1', 4, 8) === 'ftyp' && HEIF_BRANDS.has(head.toString('latin1', 8, 12));
  } finally {
    await handle.close();
  }
}

function refusedFormat(demuxer: string, cause: Error): Error {
  if (demuxer === 'image2' || demuxer.endsWith('_pipe')) return jobError('STILL_IMAGE', demuxer.replace(/_pipe$/, '')).causedBy(cause);
  if (AUDIO_DEMUXERS.has(demuxer)) return jobError('AUDIO_FILE', demuxer).causedBy(cause);
  return jobError('FORMAT_REFUSED', describeFormat(demuxer)).causedBy(cause);
}

/**
 * Reads every packet's stream, timestamp and duration (demuxing only, no decoding), streamed
 * line by line so a long file costs no memory. Fails soft: a scan that cannot run leaves the
 * header's word standing.
 */
export function scanPackets(
  file: string,
  { ffprobePath, signal, timeoutMs }: { ffprobePath: string; signal?: AbortSignal | undefined; timeoutMs: number },
): Promise<PacketScan | undefined> {
  const args = [
    '-v',
    'warning',
    '-of',
    'csv=p=0',
    '-show_entries',
    'packet=stream_index,pts_time,dts_time,duration_time,flags',
    ...INPUT_HARDENING,
    '-i',
    fileInput(file),
  ];
  return new Promise((resolve) => {
    const child = spawn(ffprobePath, args, { stdio: ['ignore', 'pipe', 'pipe'], signal, timeout: timeoutMs, killSignal: 'SIGKILL' });
    const streams: PacketScan['streams'] = new Map();
    let stderr = '';
    let pending = '';
    const take = (line: string) => {
      const [index, pts, dts, dur, flags] = line.split(',');
      // `D`: dropped by an edit list (a frame before the start); it is never shown.
      if (!index || flags?.includes('D')) return;
      const i = Number(index);
      if (!Number.isInteger(i)) return;
      const s = streams.get(i) ?? { packets: 0, first: Number.POSITIVE_INFINITY, end: 0 };
      s.packets++;
      streams.set(i, s);
      // Elementary streams (raw .h264, .m2v) have packets without timestamps: counted, not timed.
      const t = Number(pts !== 'N/A' && pts ? pts : dts);
      if (!Number.isFinite(t)) return;
      const d = Number(dur);
      s.first = Math.min(s.first, t);
      s.end = Math.max(s.end, t + (Number.isFinite(d) && d > 0 ? d : 0));
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(take);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 64 * 1024) stderr += chunk;
    });
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => {
      if (pending) take(pending);
      if (code !== 0 && streams.size === 0) return resolve(undefined);
      resolve({ streams, endedEarly: /File ended prematurely|truncat|Truncat|partial file|EOF inside/i.test(stderr) });
    });
  });
}

/** Names the demuxers an attacker would use, so the reason reads as what happened. */
function describeFormat(demuxer: string): string {
  const known: Record<string, string> = {
    hls: 'an HLS playlist (hls)',
    concat: 'a concat list (concat)',
    dash: 'a DASH manifest (dash)',
  };
  if (known[demuxer]) return known[demuxer];
  return `in the ${demuxer} format`;
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
