import { execFile } from 'node:child_process';
import { PermanentJobError, TransientJobError } from '../../../core/errors.ts';
import { ALLOWED_DEMUXERS, fileInput, INPUT_HARDENING } from './hardening.ts';

export interface ProbeResult {
  format: string;
  duration: number;
  startTime: number;
  bitRate?: number;
  video: {
    codec: string;
    width: number;
    height: number;
    /** Clockwise display rotation, degrees (0, 90, 180, 270). */
    rotation: number;
    sampleAspectRatio: number;
    frameRate: number;
  };
  audio?: { codec: string; channels: number; sampleRate: number };
}

interface RawStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  channels?: number;
  sample_rate?: string;
  tags?: Record<string, string>;
  disposition?: Record<string, number>;
  side_data_list?: { rotation?: number }[];
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
 * rules. A file ffprobe cannot read, or without a video stream, is a
 * PermanentJobError: retrying will not help.
 */
export function probeMedia(
  file: string,
  {
    ffprobePath,
    signal,
    timeoutMs = 60_000,
    untrusted = true,
  }: { ffprobePath: string; signal?: AbortSignal; timeoutMs?: number; /** False only for files reelay wrote itself. */ untrusted?: boolean },
): Promise<ProbeResult> {
  const hardening = untrusted ? INPUT_HARDENING : ['-protocol_whitelist', 'file'];
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...hardening, '-i', fileInput(file)];
  return new Promise((resolve, reject) => {
    execFile(
      ffprobePath,
      args,
      { signal, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err) {
          if (signal?.aborted) return reject(new TransientJobError('probe aborted', { cause: err }));
          if ((err as { killed?: boolean }).killed) {
            return reject(new PermanentJobError('probe_timeout', `ffprobe did not finish within ${timeoutMs / 1000}s`, { cause: err }));
          }
          const refused = /\[(\w+) @ [^\]]*\] Format not on whitelist/.exec(stderr);
          if (refused) {
            return reject(
              new PermanentJobError(
                'unsupported_format',
                `the upload is ${describeFormat(refused[1]!)}, not an accepted video container (accepted: ${ALLOWED_DEMUXERS.join(', ')}); it was not opened`,
                { cause: err },
              ),
            );
          }
          const reason = stderrTail(stderr).replaceAll(`file:${file}`, 'the upload').replaceAll(file, 'the upload') || 'ffprobe failed';
          return reject(new PermanentJobError('unreadable_input', `ffprobe could not read the upload: ${reason}`, { cause: err }));
        }
        try {
          resolve(parseProbe(JSON.parse(stdout) as RawProbe, stderr));
        } catch (parseErr) {
          reject(parseErr);
        }
      },
    );
  });
}

/** Names the demuxers an attacker would use, so the reason reads as what happened. */
function describeFormat(demuxer: string): string {
  const known: Record<string, string> = {
    hls: 'an HLS playlist (hls)',
    concat: 'a concat list (concat)',
    dash: 'a DASH manifest (dash)',
    image2: 'an image sequence (image2)',
  };
  if (known[demuxer]) return known[demuxer];
  if (demuxer.endsWith('_pipe')) return `an image (${demuxer})`;
  return `in the ${demuxer} format`;
}

export function parseProbe(raw: RawProbe, stderr = ''): ProbeResult {
  const streams = raw.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!raw.format?.format_name) throw new PermanentJobError('unreadable_input', 'ffprobe found no container format in the upload');
  if (!video) {
    const what = streams.some((st) => st.codec_type === 'audio') ? 'only audio' : 'no video stream';
    throw new PermanentJobError('no_video_stream', `the upload (${raw.format.format_name}) has ${what}; reelay makes video renditions only`);
  }
  if (!video.width || !video.height) {
    const why = stderrTail(stderr, 300);
    throw new PermanentJobError('invalid_video', `the video stream has no valid picture size${why ? `: ${why}` : ''}`);
  }
  const audio = streams.find((s) => s.codec_type === 'audio');
  const sideRotation = video.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  // Older ffprobe reports the clockwise `rotate` tag; newer ones the display matrix, counter-clockwise.
  const rotation = video.tags?.rotate !== undefined ? Number(video.tags.rotate) : sideRotation !== undefined ? -sideRotation : 0;
  const sar = ratio(video.sample_aspect_ratio);
  const result: ProbeResult = {
    format: raw.format.format_name,
    duration: finite(raw.format.duration) || finite(video.duration),
    startTime: finite(raw.format.start_time),
    video: {
      codec: video.codec_name ?? 'unknown',
      width: video.width,
      height: video.height,
      rotation: ((Math.round(rotation) % 360) + 360) % 360,
      sampleAspectRatio: sar > 0 ? sar : 1,
      frameRate: ratio(video.avg_frame_rate) || ratio(video.r_frame_rate),
    },
  };
  if (raw.format.bit_rate) result.bitRate = finite(raw.format.bit_rate);
  if (audio) {
    result.audio = { codec: audio.codec_name ?? 'unknown', channels: audio.channels ?? 0, sampleRate: finite(audio.sample_rate) };
  }
  return result;
}
