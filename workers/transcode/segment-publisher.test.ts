import { describe, expect, it } from 'vitest';
import { bitsPerSecond, rational } from './segment-publisher.ts';

describe('bitsPerSecond', () => {
  it("reads ffmpeg's rate suffixes, as the ladder writes its caps", () => {
    expect(bitsPerSecond('1000k')).toBe(1_000_000);
    expect(bitsPerSecond('3.5M')).toBe(3_500_000);
    expect(bitsPerSecond('96k')).toBe(96_000);
    expect(bitsPerSecond('64000')).toBe(64_000);
    expect(() => bitsPerSecond('fast')).toThrow(/not a bit rate/);
  });
});

describe('rational', () => {
  it('reads a frame rate as ffmpeg writes it', () => {
    expect(rational('30000/1001')).toBeCloseTo(29.97, 2);
    expect(rational('25')).toBe(25);
    expect(rational('x')).toBe(0);
  });
});
