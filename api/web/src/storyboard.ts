/** Storyboard WebVTT: cues mapping time ranges to a tile of the sprite (`sprite.jpg#xywh=x,y,w,h`). */
export interface Tile {
  start: number;
  end: number;
  url: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

function seconds(stamp: string): number {
  return stamp.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

/** Parses the cues; image URLs are resolved against the VTT's own URL. */
export function parseStoryboard(vtt: string, base: string): Tile[] {
  const tiles: Tile[] = [];
  const cue = /(\d{2}:\d{2}:\d{2}\.\d{3}) --> (\d{2}:\d{2}:\d{2}\.\d{3})\s*\n([^\n#]+)#xywh=(\d+),(\d+),(\d+),(\d+)/g;
  for (const m of vtt.matchAll(cue)) {
    tiles.push({
      start: seconds(m[1]!),
      end: seconds(m[2]!),
      url: new URL(m[3]!.trim(), base).href,
      x: +m[4]!,
      y: +m[5]!,
      w: +m[6]!,
      h: +m[7]!,
    });
  }
  return tiles;
}

export function tileAt(tiles: readonly Tile[], t: number): Tile | undefined {
  return tiles.find((tile) => t >= tile.start && t < tile.end) ?? tiles.at(-1);
}
