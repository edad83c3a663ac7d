import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What the status document says of the source (the fields the checks need). */
export interface SourceFacts {
  width?: number;
  height?: number;
  rotation?: number;
  sampleAspectRatio?: number;
  duration?: number;
  hasAudio?: boolean;
}

interface ProbedStream {
  codec_type: string;
  codec_name: string;
  profile?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  field_order?: string;
  color_transfer?: string;
  color_primaries?: string;
  color_space?: string;
  channels?: number;
  sample_rate?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  side_data_list?: { rotation?: number }[];
  tags?: Record<string, string>;
}

async function probe(ffprobe: string, file: string): Promise<{ duration: number; streams: ProbedStream[] }> {
  const { stdout } = await run(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  const raw = JSON.parse(stdout) as { format: { duration?: string }; streams: ProbedStream[] };
  return { duration: Number(raw.format.duration ?? 0), streams: raw.streams };
}

const rate = (text: string | undefined) => {
  const [n, d] = (text ?? '0/0').split('/').map(Number);
  return n && d ? n / d : 0;
};

/** The displayed size of the source: pixel aspect and rotation applied. */
export function sourceDisplay(source: SourceFacts): { width: number; height: number } | undefined {
  if (!source.width || !source.height) return undefined;
  const w = source.width * (source.sampleAspectRatio ?? 1);
  const quarter = (source.rotation ?? 0) % 180 !== 0;
  return quarter ? { width: source.height, height: w } : { width: w, height: source.height };
}

/**
 * Checks one MP4 rendition the way a strict client would: H.264 High, yuv420p, even size,
 * the rung's short side (or the source's own below it, never more), the source's orientation,
 * no rotation tag, progressive, ≤ 60 fps constant, BT.709 tags, AAC stereo at 44.1/48 kHz when
 * the source has sound, moov before mdat, duration within 0.3 s. Returns the problems found.
 */
export async function checkRendition(ffprobe: string, file: string, name: string, source: SourceFacts): Promise<string[]> {
  const problems: string[] = [];
  const { duration, streams } = await probe(ffprobe, file);
  const v = streams.find((s) => s.codec_type === 'video');
  const a = streams.find((s) => s.codec_type === 'audio');
  if (!v) return ['no video stream'];
  if (v.codec_name !== 'h264' || v.profile !== 'High') problems.push(`video is ${v.codec_name} ${v.profile ?? ''}, not H.264 High`);
  if (v.pix_fmt !== 'yuv420p') problems.push(`pixel format ${v.pix_fmt}`);
  const w = v.width ?? 0;
  const h = v.height ?? 0;
  if (w % 2 || h % 2) problems.push(`odd size ${w}x${h}`);
  const target = Number.parseInt(name, 10);
  const display = sourceDisplay(source);
  const short = Math.min(w, h);
  if (display) {
    const sourceShort = Math.min(display.width, display.height);
    const expected = sourceShort >= target ? target : Math.max(2, Math.round(sourceShort / 2) * 2);
    if (Math.abs(short - expected) > 2) problems.push(`short side ${short}, expected ${expected}`);
    if (short > sourceShort + 2) problems.push(`upscaled: ${short} > source ${Math.round(sourceShort)}`);
    const landscape = display.width > display.height * 1.01;
    const portrait = display.height > display.width * 1.01;
    if ((landscape && !(w > h)) || (portrait && !(h > w)))
      problems.push(`orientation: ${w}x${h} for a ${Math.round(display.width)}x${Math.round(display.height)} source`);
  }
  const rotation = v.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation ?? Number(v.tags?.rotate ?? 0);
  if (rotation) problems.push(`rotation tag ${rotation}`);
  if (v.field_order && v.field_order !== 'progressive' && v.field_order !== 'unknown') problems.push(`field order ${v.field_order}`);
  const fps = rate(v.avg_frame_rate);
  if (fps > 60.01) problems.push(`${fps.toFixed(2)} fps`);
  if (Math.abs(rate(v.r_frame_rate) - fps) > 0.05 * fps)
    problems.push(`variable frame rate (avg ${fps.toFixed(3)}, r ${rate(v.r_frame_rate).toFixed(3)})`);
  if (v.color_transfer !== 'bt709' || v.color_primaries !== 'bt709' || v.color_space !== 'bt709') {
    problems.push(`colour tags ${v.color_primaries}/${v.color_transfer}/${v.color_space}, not bt709`);
  }
  if (source.hasAudio) {
    if (!a) problems.push('no audio though the source has sound');
    else {
      if (a.codec_name !== 'aac' || a.channels !== 2) problems.push(`audio ${a.codec_name} ${a.channels} ch, not AAC stereo`);
      if (!['44100', '48000'].includes(a.sample_rate ?? '')) problems.push(`audio at ${a.sample_rate} Hz`);
    }
  } else if (a) problems.push('audio stream though the source has none');
  const bytes = await readFile(file);
  const moov = bytes.indexOf('moov');
  const mdat = bytes.indexOf('mdat');
  if (!(moov >= 0 && mdat >= 0 && moov < mdat)) problems.push('not faststart (moov after mdat)');
  if (source.duration !== undefined && Math.abs(duration - source.duration) > 0.3) {
    problems.push(`duration ${duration.toFixed(3)} s, source ${source.duration.toFixed(3)} s`);
  }
  return problems;
}

/** A thumbnail is a JPEG of a real frame: decodable and not one flat colour (a white page with one line passes). */
export async function checkThumbnail(ffmpeg: string, ffprobe: string, file: string, rendition?: string): Promise<string[]> {
  const { streams } = await probe(ffprobe, file);
  const v = streams[0];
  if (!v || v.codec_name !== 'mjpeg') return [`thumbnail is ${v?.codec_name ?? 'nothing'}, not a JPEG`];
  const { stderr } = await run(ffmpeg, ['-hide_banner', '-i', file, '-vf', 'signalstats,metadata=print', '-f', 'null', '-']);
  const stat = (key: string) => Number(new RegExp(`lavfi\\.signalstats\\.${key}=([\\d.]+)`).exec(stderr)?.[1] ?? Number.NaN);
  const spread = stat('YMAX') - stat('YMIN');
  if (Number.isFinite(spread) && spread >= 8) return [];
  // A flat thumbnail is still the truth when every frame of the video is that flat (a black video).
  if (rendition) {
    const { stderr: all } = await run(
      ffmpeg,
      ['-hide_banner', '-i', rendition, '-vf', 'fps=1,signalstats,metadata=print', '-an', '-f', 'null', '-'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const values = (key: string) => [...all.matchAll(new RegExp(`lavfi\\.signalstats\\.${key}=([\\d.]+)`, 'g'))].map((m) => Number(m[1]));
    if (Math.max(...values('YMAX')) - Math.min(...values('YMIN')) < 8) return [];
  }
  return [`thumbnail is one flat colour (luma ${stat('YMIN')}–${stat('YMAX')})`];
}
