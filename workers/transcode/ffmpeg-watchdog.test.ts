import { afterEach, describe, expect, it, vi } from 'vitest';
import { FfmpegWatchdog, transcodeTimeLimitMs } from './ffmpeg-watchdog.ts';

describe('FfmpegWatchdog', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires when progress stops', () => {
    vi.useFakeTimers();
    const dog = new FfmpegWatchdog({ stallMs: 1000, limitMs: 60_000, parent: new AbortController().signal });
    vi.advanceTimersByTime(900);
    dog.progress();
    vi.advanceTimersByTime(900);
    expect(dog.signal.aborted).toBe(false);
    vi.advanceTimersByTime(200);
    expect(dog.signal.aborted).toBe(true);
    expect(dog.reason).toBe('ffmpeg made no progress for 1s');
  });

  it('fires at the time limit even with progress', () => {
    vi.useFakeTimers();
    const dog = new FfmpegWatchdog({ stallMs: 1000, limitMs: 3000, parent: new AbortController().signal });
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(500);
      dog.progress();
    }
    expect(dog.signal.aborted).toBe(true);
    expect(dog.reason).toBe('ffmpeg exceeded the time limit of 3s');
  });

  it('follows the parent signal without a reason of its own', () => {
    const parent = new AbortController();
    const dog = new FfmpegWatchdog({ stallMs: 1000, limitMs: 3000, parent: parent.signal });
    parent.abort();
    expect(dog.signal.aborted).toBe(true);
    expect(dog.reason).toBeUndefined();
  });

  it('stop() clears the timers', () => {
    vi.useFakeTimers();
    const dog = new FfmpegWatchdog({ stallMs: 1000, limitMs: 3000, parent: new AbortController().signal });
    dog.stop();
    vi.advanceTimersByTime(10_000);
    expect(dog.signal.aborted).toBe(false);
  });
});

describe('transcodeTimeLimitMs', () => {
  it('scales with the duration, with a floor', () => {
    expect(transcodeTimeLimitMs(600, { factor: 10, minMs: 300_000 })).toBe(6_000_000);
    expect(transcodeTimeLimitMs(4, { factor: 10, minMs: 300_000 })).toBe(300_000);
    expect(transcodeTimeLimitMs(0, { factor: 10, minMs: 1000 })).toBe(1000);
  });
});

describe('FfmpegWatchdog with an aborted parent', () => {
  it('is aborted from the start', () => {
    const parent = new AbortController();
    parent.abort();
    const dog = new FfmpegWatchdog({ stallMs: 1000, limitMs: 3000, parent: parent.signal });
    expect(dog.signal.aborted).toBe(true);
    expect(dog.reason).toBeUndefined();
  });
});

describe('transcodeTimeLimitMs cap', () => {
  it('never passes the 12 h SQS visibility ceiling', () => {
    expect(transcodeTimeLimitMs(4 * 3600, { factor: 10, minMs: 300_000 })).toBe(11.5 * 3600 * 1000);
  });
});
