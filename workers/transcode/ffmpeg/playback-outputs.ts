import path from 'node:path';
import type { StoryboardPlan } from '../../../core/storyboard.ts';

/** Target HLS segment length, seconds; every rendition gets a keyframe exactly at each multiple. */
export const HLS_SEGMENT_SECONDS = 4;
/** Below `outDir`: `hls/<rendition>/index.m3u8`, `init.mp4`, `seg_00000.m4s`…, and `hls/master.m3u8`. */
export const HLS_DIR = 'hls';
export const STORYBOARD_DIR = 'storyboard';

/** Length of the first HLS segments (REELAY_FIRST_SEGMENT_SECONDS): 1, 2, or 4 (the plain grid). */
export type FirstSegmentSeconds = 1 | 2 | 4;

/**
 * The keyframe times as an ffmpeg `-force_key_frames` expression: short first segments so the video is
 * playable while it encodes (1 → 0, 1, 2 s; 2 → 0, 2 s), then every multiple of the segment length. With
 * `hls_time` equal to the first segment's length the muxer cuts at every one of them (1, 1, 2, 4, 4 … s).
 */
export function keyframeExpression(firstSegmentSeconds: FirstSegmentSeconds = 1, segmentSeconds = HLS_SEGMENT_SECONDS): string {
  const step = segmentSeconds;
  if (firstSegmentSeconds === 1) return `expr:gte(t,if(lt(n_forced,3),n_forced,${step}*(n_forced-2)))`;
  if (firstSegmentSeconds === 2) return `expr:gte(t,if(lt(n_forced,2),2*n_forced,${step}*(n_forced-1)))`;
  return `expr:gte(t,n_forced*${step})`;
}

/**
 * Encoder options that make the renditions' segments line up: keyframes at
 * the same timestamps in every rendition (keyframeExpression: by timestamp, so
 * every rendition of the same frames cuts at the same points, whatever the
 * frame rate), none in between (no scene-cut keyframes, GOP cap above the
 * longest 4 s at 120 fps), closed GOPs, and codec headers out of band, which
 * both the MP4 and the fMP4 muxer behind the tee need.
 */
export function alignedKeyframeOptions(firstSegmentSeconds: FirstSegmentSeconds = 1): string[] {
  return [
    '-force_key_frames',
    keyframeExpression(firstSegmentSeconds),
    '-sc_threshold',
    '0',
    '-g',
    '1000',
    '-flags',
    '+cgop+global_header',
  ];
}

/** Escapes a value inside a tee slave's `[k=v:…]` options or its file name. */
function teeEscape(value: string): string {
  return value.replace(/[\\:|[\]'"=]/g, (c) => `\\${c}`);
}

/**
 * One `-f tee` output that writes the same encoded packets twice: the
 * progressive MP4 (`+faststart`) and the rendition's fMP4 HLS variant. This is
 * what keeps HLS at the cost of muxing: no second encode, no second decode.
 * The variant is an EVENT playlist rewritten (through a temp file and a rename)
 * after each finished segment: the worker's segment publisher stores segments
 * as the playlist lists them, so the video plays while it encodes.
 */
export function teeMp4AndHls(mp4Path: string, hlsVariantDir: string, firstSegmentSeconds: FirstSegmentSeconds = 1): string {
  const hls = [
    'f=hls',
    // The muxer cuts at the first keyframe past each multiple of this: with keyframeExpression's times, 1, 1, 2, 4, 4 … s.
    `hls_time=${firstSegmentSeconds}`,
    'hls_playlist_type=event',
    'hls_flags=temp_file',
    'hls_segment_type=fmp4',
    'hls_fmp4_init_filename=init.mp4',
    `hls_segment_filename=${teeEscape(path.join(hlsVariantDir, 'seg_%05d.m4s'))}`,
  ].join(':');
  return `[f=mp4:movflags=+faststart]${teeEscape(mp4Path)}|[${hls}]${teeEscape(path.join(hlsVariantDir, 'index.m3u8'))}`;
}

/**
 * Filter chain from one branch of the decoded video to the sprite: one frame
 * every interval, exactly `tiles` of them (cut, or the last one repeated when
 * the video is shorter than its header said), scaled to a tile and laid out in
 * the grid. `tile` emits a picture for every tile (overlap and initial padding
 * of tiles − 1), each overwriting the last through `-update 1`, so the final
 * picture holds every tile in order. Emitting from the first frame matters:
 * ffmpeg prints no progress at all until every output has written something,
 * and the worker's watchdog takes silence for a stuck ffmpeg.
 */
export function storyboardFilter(plan: StoryboardPlan, input: string, output: string): string {
  const n = plan.tiles;
  return (
    `[${input}]fps=1/${plan.intervalSeconds}:round=down:eof_action=pass,tpad=stop=-1:stop_mode=clone,trim=end_frame=${n},` +
    `scale=${plan.tileWidth}:${plan.tileHeight}:flags=bilinear,setsar=1,` +
    `tile=${plan.columns}x${plan.rows}:nb_frames=${n}:overlap=${n - 1}:init_padding=${n - 1},format=yuvj420p[${output}]`
  );
}

export function storyboardOutput(plan: StoryboardPlan, outDir: string, label: string): { path: string; options: string[] } {
  return {
    path: path.join(outDir, STORYBOARD_DIR, plan.sprite),
    options: ['-map', `[${label}]`, '-q:v', '4', '-an', '-f', 'image2', '-update', '1'],
  };
}
