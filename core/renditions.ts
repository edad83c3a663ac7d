/**
 * The rendition ladder and the plan for one source: which outputs to make, at
 * which size. Sizes refer to the displayed picture (rotation and pixel aspect
 * applied); a rendition is named by its short side, so a portrait 1080×1920
 * phone video gets a 360×640 "360p" and a 720×1280 "720p".
 */
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
  skipped: { name: string; reason: string }[];
  hasAudio: boolean;
}

/** Rounds to the nearest even number, at least 2: x264 with yuv420p needs even dimensions. */
export function even(x: number): number {
  return Math.max(2, Math.round(x / 2) * 2);
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
      renditions.push({ ...spec, file, width: even(display.width), height: even(display.height), belowTarget: true });
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
  const atSeconds = media.duration >= 1 ? media.startTime + Math.min(media.duration * 0.2, 30) : media.startTime;
  return {
    display,
    renditions,
    thumbnail: {
      file: 'thumbnail.jpg',
      width: even(display.width * thumbScale),
      height: even(display.height * thumbScale),
      atSeconds: Math.max(0, atSeconds),
    },
    skipped,
    hasAudio: media.hasAudio,
  };
}
