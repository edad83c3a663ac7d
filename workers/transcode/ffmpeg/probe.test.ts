import { describe, expect, it } from 'vitest';
import { PermanentJobError } from '../../../core/errors.ts';
import { parseProbe, stderrTail } from './probe.ts';

describe('parseProbe', () => {
  const format = { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '4.000', start_time: '0.000' };

  it('reads the first real video stream and the audio stream', () => {
    const result = parseProbe({
      format,
      streams: [
        { codec_type: 'video', codec_name: 'mjpeg', width: 100, height: 100, disposition: { attached_pic: 1 } },
        { codec_type: 'video', codec_name: 'h264', width: 1280, height: 720, sample_aspect_ratio: '1:1', avg_frame_rate: '30000/1001' },
        { codec_type: 'audio', codec_name: 'aac', channels: 2, sample_rate: '48000' },
      ],
    });
    expect(result.video).toMatchObject({ codec: 'h264', width: 1280, height: 720, rotation: 0, sampleAspectRatio: 1 });
    expect(result.video.frameRate).toBeCloseTo(29.97, 2);
    expect(result.audio).toEqual({ codec: 'aac', channels: 2, sampleRate: 48000 });
    expect(result.duration).toBe(4);
  });

  it('reads rotation from the tag or the display matrix', () => {
    const stream = { codec_type: 'video', codec_name: 'h264', width: 1920, height: 1080 };
    expect(parseProbe({ format, streams: [{ ...stream, tags: { rotate: '90' } }] }).video.rotation).toBe(90);
    expect(parseProbe({ format, streams: [{ ...stream, side_data_list: [{ rotation: -90 }] }] }).video.rotation).toBe(90);
    expect(parseProbe({ format, streams: [{ ...stream, side_data_list: [{ rotation: 90 }] }] }).video.rotation).toBe(270);
  });

  it('a file without video is a permanent failure', () => {
    expect(() => parseProbe({ format, streams: [{ codec_type: 'audio', codec_name: 'mp3' }] })).toThrow(PermanentJobError);
    expect(() => parseProbe({ streams: [] })).toThrow(PermanentJobError);
  });

  it('treats unknown or N/A durations as 0', () => {
    const result = parseProbe({
      format: { format_name: 'matroska,webm', duration: 'N/A' },
      streams: [{ codec_type: 'video', codec_name: 'vp9', width: 640, height: 360, sample_aspect_ratio: '0:1' }],
    });
    expect(result.duration).toBe(0);
    expect(result.video.sampleAspectRatio).toBe(1);
  });
});

describe('stderrTail', () => {
  it('keeps the end, on a line boundary', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n');
    const tail = stderrTail(lines, 50);
    expect(tail.length).toBeLessThanOrEqual(50);
    expect(tail.endsWith('line 199')).toBe(true);
    expect(tail.startsWith('line ')).toBe(true);
  });
});
