import { describe, expect, it } from 'vitest';
import { checkStream, planLiveLadder } from './live-ladder.ts';
import type { StreamInfo } from './stream-info.ts';

const source = (width: number, height: number, over: Partial<NonNullable<StreamInfo['video']>> = {}, fps?: number): StreamInfo => ({
  video: { width, height, profile: 100, level: 31, codecs: 'avc1.64001f', ...over },
  audio: { objectType: 2, sampleRate: 48000, channels: 2, codecs: 'mp4a.40.2' },
  metadata: fps ? { frameRate: fps } : {},
});
const names = (info: StreamInfo, passthrough = true) =>
  planLiveLadder(info, { passthrough }).map((r) => `${r.name}:${r.width}x${r.height}${r.passthrough ? ':pass' : ''}`);

describe('planLiveLadder', () => {
  it('720p H.264 High: the source passes through as the top rung, 360p is encoded', () => {
    expect(names(source(1280, 720))).toEqual(['720p:1280x720:pass', '360p:640x360']);
  });
  it('1080p: 1080p passthrough, 720p and 360p encoded; without passthrough all three encoded', () => {
    expect(names(source(1920, 1080, { level: 40 }))).toEqual(['1080p:1920x1080:pass', '720p:1280x720', '360p:640x360']);
    expect(names(source(1920, 1080), false)).toEqual(['1080p:1920x1080', '720p:1280x720', '360p:640x360']);
  });
  it('never larger than the source: a 480p source is 480p and 360p; a 240p source one rung', () => {
    expect(names(source(854, 480))).toEqual(['480p:854x480:pass', '360p:640x360']);
    expect(names(source(426, 240))).toEqual(['240p:426x240:pass']);
  });
  it('portrait sources are named by their short side', () => {
    expect(names(source(720, 1280))).toEqual(['720p:720x1280:pass', '360p:360x640']);
  });
  it('re-encodes what players cannot take as it is: High 10, a level above 4.2, odd sizes, over 1080p', () => {
    expect(names(source(1280, 720, { profile: 110 }))[0]).toBe('720p:1280x720');
    expect(names(source(1920, 1080, { level: 51 }))[0]).toBe('1080p:1920x1080');
    expect(names(source(1281, 721))[0]).toBe('720p:1280x720');
    expect(names(source(2560, 1440))[0]).toBe('1080p:1920x1080');
  });
  it('a reconnect keeps the session ladder; the top passes through only if the new source matches it', () => {
    const first = planLiveLadder(source(1280, 720), { passthrough: true });
    expect(planLiveLadder(source(1920, 1080), { passthrough: true }, first).map((r) => [r.name, r.passthrough])).toEqual([
      ['720p', false],
      ['360p', false],
    ]);
    expect(planLiveLadder(source(1280, 720), { passthrough: true }, first)[0]!.passthrough).toBe(true);
  });
});

describe('checkStream', () => {
  const limits = { maxPixels: 1920 * 1080, maxFrameRate: 60 };
  it('takes 1080p60, refuses larger pictures, faster frame rates and streams without video', () => {
    expect(checkStream(source(1920, 1080, {}, 60), limits)).toBeUndefined();
    expect(checkStream(source(2560, 1440), limits)).toMatchObject({ code: 'picture_too_large' });
    expect(checkStream(source(1280, 720, {}, 120), limits)).toMatchObject({ code: 'frame_rate_too_high' });
    expect(checkStream({ metadata: {} }, limits)).toMatchObject({ code: 'no_video' });
  });
});
