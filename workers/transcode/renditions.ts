/**
 * The rendition ladder and the plan for one source: which outputs to make, at
 * which size. Sizes refer to the displayed picture (rotation and pixel aspect
 * applied); a rendition is named by its short side, so a portrait 1080×1920
 * phone video gets a 360×640 "360p" and a 720×1280 "720p".
 */
import { planStoryboard, type StoryboardPlan } from '../../core/storyboard.ts';

export interface RenditionSpec {
  name: '360p' | '720p';
  /** Target length of the picture's short side, pixels. */
  shortSide: number;
  crf: number;
  /** VBV cap so a rendition stays streamable on a slow link. */
  maxrate: string;
  bufsize: string;
  audioBitrate: string;
}

export const RENDITION_LADDER: readonly RenditionSpec[] = [
  { name: '360p', shortSide: 360, crf: 24, maxrate: '1000k', bufsize: '2000k', audioBitrate: '96k' },
  { name: '720p', shortSide: 720, crf: 23, maxrate: '3500k', bufsize: '7000k', audioBitrate: '128k' },
];

/** Thumbnail: a JPEG whose long side is at most this many pixels (never upscaled). */
export const THUMBNAIL_LONG_SIDE = 640;

/** What the plan needs to know of the source, as probed. */
export interface SourceMedia {
  width: number;
  height: number;
  /** Clockwise display rotation in degrees (0, 90, 180, 270). */
  rotation: number;
  /** Sample (pixel) aspect ratio; 1 for square pixels. */
  sampleAspectRatio: number;
  duration: number;
  startTime: number;
  hasAudio: boolean;
  /** Frames per second the source really delivers; 0 when unknown. */
  frameRate?: number;
}

export interface PlannedRendition extends RenditionSpec {
  file: string;
  width: number;
  height: number;
  /** True when the source is smaller than the rung and is kept at its own size. */
  belowTarget: boolean;
}

export interface TranscodePlan {
  display: { width: number; height: number };
  renditions: PlannedRendition[];
  thumbnail: { file: string; width: number; height: number; atSeconds: number };
  storyboard: StoryboardPlan;
  skipped: { name: string; reason: string }[];
  hasAudio: boolean;
  /** Constant output frame rate, as an ffmpeg rational (`30000/1001`): see outputFrameRate. */
  frameRate: string;
}

/** Rounds to the nearest even number, at least 2: x264 with yuv420p needs even dimensions. */
export function even(x: number): number {
  return Math.max(2, Math.round(x / 2) * 2);
}

/** Rounds down to an even number, at least 2: an odd-sized source kept at its own size is never upscaled by a pixel. */
export function evenDown(x: number): number {
  return Math.max(2, Math.floor(Math.round(x * 1000) / 1000 / 2) * 2);
}

export function displaySize(media: Pick<SourceMedia, 'width' | 'height' | 'rotation' | 'sampleAspectRatio'>): {
  width: number;
  height: number;
} {
  const sar = media.sampleAspectRatio > 0 && Number.isFinite(media.sampleAspectRatio) ? media.sampleAspectRatio : 1;
  const w = media.width * sar;
  const h = media.height;
  const quarterTurn = Math.abs(((media.rotation % 360) + 360) % 180) === 90;
  return quarterTurn ? { width: Math.round(h), height: Math.round(w) } : { width: Math.round(w), height: Math.round(h) };
}

/** Scales (w, h) so its short side becomes `shortSide`, keeping the aspect ratio, even sizes. */
function scaleToShortSide(w: number, h: number, shortSide: number): { width: number; height: number } {
  const factor = shortSide / Math.min(w, h);
  return w <= h ? { width: even(shortSide), height: even(h * factor) } : { width: even(w * factor), height: even(shortSide) };
}

/** The highest output frame rate; faster sources are divided down (see outputFrameRate). */
export const MAX_OUTPUT_FRAME_RATE = 60;

/** The lowest output frame rate: slower sources repeat each frame a whole number of times. */
export const MIN_OUTPUT_FRAME_RATE = 12;

/** Frame rates players and encoders know, as [numerator, denominator]. */
const STANDARD_RATES: readonly [number, number][] = [
  [24000, 1001],
  [24, 1],
  [25, 1],
  [30000, 1001],
  [30, 1],
  [48, 1],
  [50, 1],
  [60000, 1001],
  [60, 1],
];

/** Fallback when a source's rate cannot be known at all. */
const UNKNOWN_RATE_FALLBACK = '30';

/**
 * The constant frame rate of every rendition. Rule: the source's real average rate
 * (variable-rate phone video included), divided by the smallest whole number that brings it to
 * 60 fps or less (120 → 60, 240 → 60, 100 → 50: every 2nd / 4th frame is kept, so motion stays
 * even) or, under 12 fps, multiplied by the smallest whole number that brings it to 12 or more
 * (1 → 12, 5 → 15: each frame repeated), then snapped to the nearest standard rate when within 2 % (29.87 → 29.97). Slow-motion
 * files play at the speed they were written at; only frames are dropped, never time.
 */
export function outputFrameRate(sourceRate: number | undefined): string {
  if (!sourceRate || !Number.isFinite(sourceRate) || sourceRate <= 0) return UNKNOWN_RATE_FALLBACK;
  // Within the 2 % snapping tolerance of 60 counts as 60 (a phone's 60.06 fps is not halved).
  let rate = sourceRate / Math.ceil(sourceRate / (MAX_OUTPUT_FRAME_RATE * 1.02));
  // Very slow sources (1 fps time-lapses, 5 fps webcams) are shown at a whole multiple of their rate
  // of at least 12 fps: the same pictures, but an end that falls within 1/12 s of the source's.
  if (rate < MIN_OUTPUT_FRAME_RATE) rate *= Math.ceil(MIN_OUTPUT_FRAME_RATE / rate);
  let best: [number, number] | undefined;
  for (const [num, den] of STANDARD_RATES) {
    const std = num / den;
    if (Math.abs(rate - std) / std <= 0.02 && (!best || Math.abs(rate - std) < Math.abs(rate - best[0] / best[1]))) best = [num, den];
  }
  if (best) return best[1] === 1 ? String(best[0]) : `${best[0]}/${best[1]}`;
  const milli = Math.max(1, Math.round(rate * 1000));
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}/1000`;
}

export function planTranscode(media: SourceMedia): TranscodePlan {
  const display = displaySize(media);
  const sourceShort = Math.min(display.width, display.height);
  const renditions: PlannedRendition[] = [];
  const skipped: TranscodePlan['skipped'] = [];

  RENDITION_LADDER.forEach((spec, index) => {
    const file = `${spec.name}.mp4`;
    if (sourceShort >= spec.shortSide) {
      renditions.push({ ...spec, file, ...scaleToShortSide(display.width, display.height, spec.shortSide), belowTarget: false });
    } else if (index === 0) {
      // The lowest rung is always made so every video plays; a tiny source keeps its own size.
      renditions.push({ ...spec, file, width: evenDown(display.width), height: evenDown(display.height), belowTarget: true });
    } else {
      skipped.push({
        name: spec.name,
        reason: `source is ${display.width}x${display.height}; a ${spec.name} rendition would upscale it`,
      });
    }
  });

  const long = Math.max(display.width, display.height);
  const thumbScale = Math.min(1, THUMBNAIL_LONG_SIDE / long);
  // A representative frame: look from a fifth into the video (past fades and black intros).
  // Counted from the first frame: ffmpeg's filters see time from 0, whatever the container's start time.
  const atSeconds = media.duration >= 1 ? Math.min(media.duration * 0.2, 30) : 0;
  return {
    display,
    renditions,
    thumbnail: {
      file: 'thumbnail.jpg',
      // Scaled down: nearest even size. Kept at its own size: rounded down, never up.
      width: thumbScale < 1 ? even(display.width * thumbScale) : evenDown(display.width),
      height: thumbScale < 1 ? even(display.height * thumbScale) : evenDown(display.height),
      atSeconds: Math.max(0, atSeconds),
    },
    storyboard: planStoryboard(media.duration, display),
    skipped,
    hasAudio: media.hasAudio,
    frameRate: outputFrameRate(media.frameRate),
  };
}
