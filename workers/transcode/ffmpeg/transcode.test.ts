import { describe, expect, it } from 'vitest';
import { clampPercent, progressSeconds } from './transcode.ts';

describe('ffmpeg progress', () => {
  it('reads time= from progress lines', () => {
    expect(progressSeconds('frame=  120 fps= 60 q=28.0 size=     256kB time=00:00:04.80 bitrate= 436.9kbits/s speed=2.4x')).toBe(4.8);
    expect(progressSeconds('size=N/A time=01:02:03.50 bitrate=N/A')).toBeCloseTo(3723.5);
    expect(progressSeconds('time=-00:00:00.04')).toBe(0);
    expect(progressSeconds('Stream #0:0: Video: h264')).toBeUndefined();
  });

  it('clamps what ffmpeg reports', () => {
    expect(clampPercent(104.2)).toBe(100);
    expect(clampPercent(-3)).toBe(0);
    expect(clampPercent(Number.NaN)).toBe(0);
    expect(clampPercent(33.333)).toBe(33.3);
  });
});
