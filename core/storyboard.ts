/**
 * Storyboard: one sprite JPEG of small frames taken at a fixed interval, and
 * a WebVTT file mapping each time range to its tile (`sprite.jpg#xywh=x,y,w,h`),
 * the form players use for timeline hover previews (Video.js, Plyr, Vidstack,
 * hls.js-based players, Mux, PeerTube).
 */

export const STORYBOARD_TILE_WIDTH = 160;
export const STORYBOARD_MAX_TILES = 100;
export const STORYBOARD_COLUMNS = 10;

export interface StoryboardPlan {
  /** Seconds between tiles: a whole number, at least 1, so that there are at most STORYBOARD_MAX_TILES. */
  intervalSeconds: number;
  tiles: number;
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
  sprite: string;
  vtt: string;
}

/** Tiles for a video of `duration` seconds whose picture is displayed at `display` size. */
export function planStoryboard(duration: number, display: { width: number; height: number }): StoryboardPlan {
  const seconds = Number.isFinite(duration) && duration > 0 ? duration : 1;
  const intervalSeconds = Math.max(1, Math.ceil(seconds / STORYBOARD_MAX_TILES));
  const tiles = Math.max(1, Math.min(STORYBOARD_MAX_TILES, Math.ceil(seconds / intervalSeconds)));
  const columns = Math.min(STORYBOARD_COLUMNS, tiles);
  const tileWidth = STORYBOARD_TILE_WIDTH;
  const aspect = display.width > 0 && display.height > 0 ? display.height / display.width : 9 / 16;
  const tileHeight = Math.max(2, Math.round((tileWidth * aspect) / 2) * 2);
  return {
    intervalSeconds,
    tiles,
    columns,
    rows: Math.ceil(tiles / columns),
    tileWidth,
    tileHeight,
    sprite: 'sprite.jpg',
    vtt: 'storyboard.vtt',
  };
}

/** WebVTT timestamp, `HH:MM:SS.mmm`. */
export function vttTime(seconds: number): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/**
 * The WebVTT of a storyboard: tile i covers [i·interval, (i+1)·interval), the
 * last one up to the end of the video. `spriteUri` is relative to the VTT.
 */
export function storyboardVtt(plan: StoryboardPlan, duration: number, spriteUri = plan.sprite): string {
  const end = Number.isFinite(duration) && duration > 0 ? duration : plan.tiles * plan.intervalSeconds;
  const cues: string[] = ['WEBVTT', ''];
  for (let i = 0; i < plan.tiles; i++) {
    const from = i * plan.intervalSeconds;
    if (from >= end && i > 0) break;
    const to = i === plan.tiles - 1 ? Math.max(end, from + 0.001) : Math.min((i + 1) * plan.intervalSeconds, end);
    const x = (i % plan.columns) * plan.tileWidth;
    const y = Math.floor(i / plan.columns) * plan.tileHeight;
    cues.push(`${vttTime(from)} --> ${vttTime(to)}`, `${spriteUri}#xywh=${x},${y},${plan.tileWidth},${plan.tileHeight}`, '');
  }
  return cues.join('\n');
}
