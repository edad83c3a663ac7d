import { describe, expect, it } from 'vitest';
import { planStoryboard, storyboardVtt, vttTime } from './storyboard.ts';

describe('planStoryboard', () => {
  it('takes a tile every second for short videos', () => {
    const p = planStoryboard(12.5, { width: 1920, height: 1080 });
    expect(p).toMatchObject({ intervalSeconds: 1, tiles: 13, columns: 10, rows: 2, tileWidth: 160, tileHeight: 90 });
  });

  it('never makes more than 100 tiles', () => {
    for (const duration of [99, 100, 101, 250, 3600, 7201.3]) {
      const p = planStoryboard(duration, { width: 1280, height: 720 });
      expect(p.tiles).toBeLessThanOrEqual(100);
      expect(p.tiles * p.intervalSeconds).toBeGreaterThanOrEqual(duration);
    }
    expect(planStoryboard(3600, { width: 1280, height: 720 }).intervalSeconds).toBe(36);
  });

  it('keeps the picture aspect in the tile, with an even height', () => {
    expect(planStoryboard(10, { width: 1080, height: 1920 }).tileHeight).toBe(284);
    expect(planStoryboard(10, { width: 720, height: 576 }).tileHeight).toBe(128);
  });
});

describe('storyboardVtt', () => {
  it('maps consecutive time ranges to tiles left to right, top to bottom, ending at the video end', () => {
    const p = planStoryboard(12.5, { width: 1920, height: 1080 });
    const vtt = storyboardVtt(p, 12.5);
    const cues = vtt.split('\n\n').slice(1).filter(Boolean);
    expect(vtt.startsWith('WEBVTT\n\n')).toBe(true);
    expect(cues).toHaveLength(13);
    expect(cues[0]).toBe('00:00:00.000 --> 00:00:01.000\nsprite.jpg#xywh=0,0,160,90');
    expect(cues[9]).toBe('00:00:09.000 --> 00:00:10.000\nsprite.jpg#xywh=1440,0,160,90');
    expect(cues[10]).toBe('00:00:10.000 --> 00:00:11.000\nsprite.jpg#xywh=0,90,160,90');
    expect(cues[12]!.trim()).toBe('00:00:12.000 --> 00:00:12.500\nsprite.jpg#xywh=320,90,160,90');
  });

  it('formats hours', () => {
    expect(vttTime(3723.4567)).toBe('01:02:03.457');
  });
});
