import type { StreamInfo, StreamRefusal } from './stream-info.ts';

/** One variant of the live presentation. */
export interface LiveRendition {
  /** `720p`: the short side of the picture. Also the folder of its files. */
  name: string;
  width: number;
  height: number;
  /** The source's own H.264 (and AAC), segmented as it arrives: no decode, no encode. */
  passthrough: boolean;
  /** x264 settings of an encoded rung (ignored for passthrough). */
  crf: number;
  maxrateKbps: number;
}

/**
 * The live ladder, low to high: the VOD ladder's 360p and 720p settings (crf, VBV cap) and a 1080p rung; the
 * top rung is the source's size when it is smaller than 1080p.
 */
const LIVE_RUNGS = [
  { shortSide: 360, crf: 24, maxrateKbps: 1000 },
  { shortSide: 720, crf: 23, maxrateKbps: 3500 },
  { shortSide: 1080, crf: 23, maxrateKbps: 6000 },
];

/** x264 with 4:2:0 needs even sizes: the nearest, and the nearest below (a size kept from the source is never exceeded). */
const even = (x: number): number => Math.max(2, Math.round(x / 2) * 2);
const evenDown = (x: number): number => Math.max(2, Math.floor(x / 2) * 2);
export const LIVE_TOP_SHORT_SIDE = 1080;
/** H.264 profiles every browser's MSE plays: Constrained Baseline/Baseline, Main, High (8-bit 4:2:0). */
const PLAYABLE_PROFILES = new Set([66, 77, 100]);
/** Level 4.2: 1080p60. */
const MAX_PLAYABLE_LEVEL = 42;
/** AAC-LC, HE-AAC, HE-AACv2. */
const PLAYABLE_AAC = new Set([2, 5, 29]);

export interface LiveLimits {
  maxPixels: number;
  maxFrameRate: number;
}

/** Whether the stream may be taken at all: H.264 video of an accepted size and frame rate. */
export function checkStream(info: StreamInfo, { maxPixels, maxFrameRate }: LiveLimits): StreamRefusal | undefined {
  const { video } = info;
  if (!video)
    return { code: 'no_video', reason: 'the stream has no H.264 video (its first keyframe came without a decoder configuration)' };
  if (video.width * video.height > maxPixels) {
    return {
      code: 'picture_too_large',
      reason: `the picture is ${video.width}×${video.height}; this ingest takes at most ${maxPixels} pixels (e.g. 1920×1080): lower the output resolution`,
    };
  }
  const fps = info.metadata.frameRate;
  if (fps !== undefined && fps > maxFrameRate + 0.5) {
    return { code: 'frame_rate_too_high', reason: `the stream runs at ${round(fps)} fps; this ingest takes at most ${maxFrameRate}` };
  }
  return undefined;
}

/** True when the source can be the top rung as it is: a size, profile, level and audio every player handles. */
export function passthroughFits(info: StreamInfo): boolean {
  const { video, audio } = info;
  if (!video) return false;
  return (
    Math.min(video.width, video.height) <= LIVE_TOP_SHORT_SIDE &&
    video.width % 2 === 0 &&
    video.height % 2 === 0 &&
    PLAYABLE_PROFILES.has(video.profile) &&
    video.level <= MAX_PLAYABLE_LEVEL &&
    (audio === undefined || PLAYABLE_AAC.has(audio.objectType)) &&
    (info.metadata.frameRate === undefined || info.metadata.frameRate <= 60.5)
  );
}

/**
 * The renditions of a live session, highest first: the source's size (at most 1080p) and each smaller rung of
 * 720p and 360p, never larger than the source. With `passthrough` and a source that fits, the top rung is the
 * source itself. A session that continues after a reconnect keeps the ladder it started with (`sessionLadder`):
 * players hold on to the variants they loaded; only whether the top rung can pass through is decided again.
 */
export function planLiveLadder(
  info: StreamInfo,
  { passthrough }: { passthrough: boolean },
  sessionLadder?: readonly LiveRendition[],
): LiveRendition[] {
  const video = info.video!;
  const fits = passthrough && passthroughFits(info);
  if (sessionLadder && sessionLadder.length > 0) {
    return sessionLadder.map((r, i) => ({
      ...r,
      passthrough: i === 0 && fits && r.width === video.width && r.height === video.height,
    }));
  }
  const sourceShort = Math.min(video.width, video.height);
  const topShort = Math.min(sourceShort, LIVE_TOP_SHORT_SIDE);
  const size = (shortSide: number) => {
    if (shortSide === sourceShort) return { width: video.width, height: video.height };
    const factor = shortSide / sourceShort;
    return video.width <= video.height
      ? { width: even(shortSide), height: even(video.height * factor) }
      : { width: even(video.width * factor), height: even(shortSide) };
  };
  const top = LIVE_RUNGS.find((r) => r.shortSide >= topShort) ?? LIVE_RUNGS[LIVE_RUNGS.length - 1]!;
  const topPassthrough = fits && topShort === sourceShort;
  const topSize = size(topShort);
  // x264 needs even sizes; the source passes through at its own.
  const topFinal = topPassthrough ? topSize : { width: evenDown(topSize.width), height: evenDown(topSize.height) };
  const renditions: LiveRendition[] = [
    {
      name: `${Math.min(topFinal.width, topFinal.height)}p`,
      ...topFinal,
      passthrough: topPassthrough,
      crf: top.crf,
      maxrateKbps: top.maxrateKbps,
    },
  ];
  for (const rung of [...LIVE_RUNGS].reverse()) {
    if (rung.shortSide >= topShort) continue;
    renditions.push({
      name: `${rung.shortSide}p`,
      ...size(rung.shortSide),
      passthrough: false,
      crf: rung.crf,
      maxrateKbps: rung.maxrateKbps,
    });
  }
  return renditions;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
