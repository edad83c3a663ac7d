import path from 'node:path';
import type { LiveRendition } from './live-ladder.ts';

/** Live segments are 2 s: the encoded rungs get a keyframe (closed GOP) every 2 s, segments cut on them. */
export const LIVE_SEGMENT_SECONDS = 2;
/** The recording is cut into parts of about this long, each uploaded as soon as it is complete. */
export const RECORDING_PART_SECONDS = 4;
/** ffmpeg's own playlists keep this many entries (a minute: storage may be away that long without a gap); reelay's uploader writes the playlists players see. */
const LOCAL_LIST_SIZE = 30;

export interface LiveCommandPlan {
  renditions: readonly LiveRendition[];
  hasAudio: boolean;
  /** Where ffmpeg writes: `<name>/index.m3u8`, `<name>/init.mp4`, `<name>/<n>.m4s` and `recording/list.csv`, `recording/<n>.ts`. */
  outDir: string;
  preset: string;
  /** ffmpeg `-threads` per encoder; 0 lets ffmpeg decide. */
  threads: number;
  /** Where this run's recording starts on the session's timeline, seconds (after the runs before it). */
  recordingOffsetSeconds: number;
}

export const RECORDING_DIR = 'recording';
export const RECORDING_LIST = 'list.csv';

/**
 * One ffmpeg per stream: FLV on stdin (the ingest writes the publisher's packets), decoded once, every rung an
 * HLS output of fMP4 segments (2 s, closed GOPs; the passthrough rung copies the source and cuts on its keyframes,
 * the encoded rungs put their keyframes where the source has them, so all rungs cut at the same instants), plus
 * the recording: the source as it came, copied into MPEG-TS parts.
 */
export function liveFfmpegArgs({ renditions, hasAudio, outDir, preset, threads, recordingOffsetSeconds }: LiveCommandPlan): string[] {
  const hasPassthrough = renditions.some((r) => r.passthrough);
  const keyframes = hasPassthrough ? 'source' : `expr:gte(t,n_forced*${LIVE_SEGMENT_SECONDS})`;
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostats',
    // The sequence headers come first on stdin: no long probing before the first output.
    '-probesize',
    '262144',
    '-analyzeduration',
    '500000',
    '-f',
    'flv',
    '-i',
    'pipe:0',
  ];
  const audio = hasAudio ? ['-map', '0:a:0', '-c:a', 'copy'] : [];
  for (const r of renditions) {
    args.push('-map', '0:v:0', ...audio);
    if (r.passthrough) args.push('-c:v', 'copy');
    else {
      args.push(
        '-vf',
        `scale=${r.width}:${r.height}:flags=bicubic,format=yuv420p`,
        '-c:v',
        'libx264',
        '-preset',
        preset,
        '-profile:v',
        'high',
        '-crf',
        String(r.crf),
        '-maxrate',
        `${r.maxrateKbps}k`,
        '-bufsize',
        `${r.maxrateKbps * 2}k`,
        '-force_key_frames',
        keyframes,
        '-sc_threshold',
        '0',
        '-flags',
        '+cgop',
        '-threads',
        String(threads),
      );
    }
    const dir = path.join(outDir, r.name);
    args.push(
      '-f',
      'hls',
      '-hls_time',
      String(LIVE_SEGMENT_SECONDS),
      '-hls_list_size',
      String(LOCAL_LIST_SIZE),
      '-hls_segment_type',
      'fmp4',
      '-hls_fmp4_init_filename',
      'init.mp4',
      '-hls_segment_filename',
      path.join(dir, '%d.m4s'),
      '-hls_flags',
      'independent_segments+temp_file',
      path.join(dir, 'index.m3u8'),
    );
  }
  const recording = path.join(outDir, RECORDING_DIR);
  args.push(
    '-map',
    '0:v:0',
    ...(hasAudio ? ['-map', '0:a:0'] : []),
    '-c',
    'copy',
    '-output_ts_offset',
    recordingOffsetSeconds.toFixed(3),
    '-f',
    'segment',
    '-segment_time',
    String(RECORDING_PART_SECONDS),
    '-segment_format',
    'mpegts',
    '-segment_list',
    path.join(recording, RECORDING_LIST),
    '-segment_list_type',
    'csv',
    path.join(recording, '%06d.ts'),
  );
  return args;
}
