import { describe, expect, it } from 'vitest';
import { isVideoMediaType, mediaType } from './media-type.ts';

describe('media types', () => {
  it.each([
    ['video/mp4', 'video/mp4'],
    ['Video/MP4; codecs="avc1"', 'video/mp4'],
    ['application/octet-stream', 'application/octet-stream'],
    ['video/', undefined],
    ['*/*', undefined],
    ['video', undefined],
    ['video/mp4 x', undefined],
    ['', undefined],
  ])('%j → %j', (header, type) => expect(mediaType(header)).toBe(type));

  it('accepts video and unlabelled bytes only', () => {
    expect(isVideoMediaType('video/quicktime')).toBe(true);
    expect(isVideoMediaType('application/octet-stream')).toBe(true);
    expect(isVideoMediaType('video/')).toBe(false);
    expect(isVideoMediaType('image/png')).toBe(false);
    expect(isVideoMediaType(undefined)).toBe(false);
  });
});
