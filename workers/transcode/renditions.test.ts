import { describe, expect, it } from 'vitest';
import { displaySize, even, planTranscode, type SourceMedia } from './renditions.ts';

const media = (over: Partial<SourceMedia>): SourceMedia => ({
  width: 1920,
  height: 1080,
  rotation: 0,
  sampleAspectRatio: 1,
  duration: 10,
  startTime: 0,
  hasAudio: true,
  ...over,
});
const sizes = (m: SourceMedia) => Object.fromEntries(planTranscode(m).renditions.map((r) => [r.name, `${r.width}x${r.height}`]));

describe('planTranscode', () => {
  it('1080p source gets 360p and 720p, aspect kept', () => {
    expect(sizes(media({}))).toEqual({ '360p': '640x360', '720p': '1280x720' });
    expect(planTranscode(media({})).skipped).toEqual([]);
  });

  it('480p source gets no 720p, and says why', () => {
    const plan = planTranscode(media({ width: 854, height: 480 }));
    expect(plan.renditions.map((r) => r.name)).toEqual(['360p']);
    expect(plan.skipped).toEqual([{ name: '720p', reason: expect.stringContaining('upscale') }]);
  });

  it('exactly 720p source keeps 720p at its own size', () => {
    expect(sizes(media({ width: 1280, height: 720 }))).toEqual({ '360p': '640x360', '720p': '1280x720' });
  });

  it('portrait: renditions are named by the short side', () => {
    expect(sizes(media({ width: 1080, height: 1920 }))).toEqual({ '360p': '360x640', '720p': '720x1280' });
  });

  it('rotation is honoured: a 90° landscape-coded phone video is portrait', () => {
    const plan = planTranscode(media({ rotation: 90 }));
    expect(plan.display).toEqual({ width: 1080, height: 1920 });
    expect(sizes(media({ rotation: 270 }))).toEqual({ '360p': '360x640', '720p': '720x1280' });
    expect(sizes(media({ rotation: 180 }))).toEqual({ '360p': '640x360', '720p': '1280x720' });
  });

  it('odd sizes become even sizes', () => {
    const plan = planTranscode(media({ width: 1001, height: 721 }));
    for (const r of plan.renditions) {
      expect(r.width % 2).toBe(0);
      expect(r.height % 2).toBe(0);
    }
    expect(sizes(media({ width: 1001, height: 721 }))).toEqual({ '360p': '500x360', '720p': '1000x720' });
  });

  it('a source below 360p keeps its own size rather than being upscaled', () => {
    const plan = planTranscode(media({ width: 321, height: 241 }));
    expect(plan.renditions).toHaveLength(1);
    expect(plan.renditions[0]).toMatchObject({ name: '360p', width: 320, height: 240, belowTarget: true });
    expect(plan.skipped.map((s) => s.name)).toEqual(['720p']);
  });

  it('anamorphic pixels are squared', () => {
    expect(displaySize({ width: 720, height: 576, rotation: 0, sampleAspectRatio: 64 / 45 })).toEqual({ width: 1024, height: 576 });
    expect(sizes(media({ width: 720, height: 576, sampleAspectRatio: 64 / 45 }))).toEqual({ '360p': '640x360' });
  });

  it('thumbnail: at most 640 on the long side, from a fifth into the video', () => {
    expect(planTranscode(media({})).thumbnail).toMatchObject({ width: 640, height: 360, atSeconds: 2 });
    expect(planTranscode(media({ width: 320, height: 240 })).thumbnail).toMatchObject({ width: 320, height: 240 });
    expect(planTranscode(media({ duration: 3600 })).thumbnail.atSeconds).toBe(30);
    // MPEG-TS starts at a non-zero time; ffmpeg's filters count from the first frame all the same.
    expect(planTranscode(media({ duration: 0.5, startTime: 1.4 })).thumbnail.atSeconds).toBe(0);
    expect(planTranscode(media({ duration: 10, startTime: 1.4 })).thumbnail.atSeconds).toBe(2);
  });

  it('frame rate: constant, at most 60, divided by a whole number, snapped to a standard rate', () => {
    const rate = (frameRate: number) => planTranscode(media({ frameRate })).frameRate;
    expect(rate(29.97)).toBe('30000/1001');
    expect(rate(29.871)).toBe('30000/1001'); // variable-rate phone video
    expect(rate(30.472)).toBe('30');
    expect(rate(25)).toBe('25');
    expect(rate(60)).toBe('60');
    expect(rate(119.88)).toBe('60000/1001');
    expect(rate(240)).toBe('60');
    expect(rate(100)).toBe('50');
    expect(rate(90)).toBe('45');
    expect(rate(60.058)).toBe('60'); // a phone's 60 fps is not halved
    expect(rate(13.325)).toBe('13325/1000');
    expect(rate(1)).toBe('12');
    expect(rate(5)).toBe('15');
    expect(rate(0)).toBe('30');
  });

  it('carries whether the source has audio', () => {
    expect(planTranscode(media({ hasAudio: false })).hasAudio).toBe(false);
  });
});

describe('even', () => {
  it.each([
    [0, 2],
    [1, 2],
    [3, 4],
    [359.4, 360],
    [641, 642],
  ])('%d → %d', (x, y) => expect(even(x)).toBe(y));
});
