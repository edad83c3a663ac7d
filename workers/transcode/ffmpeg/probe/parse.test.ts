import { describe, expect, it } from 'vitest';
import { PermanentJobError } from '../../../../core/errors.ts';
import { parseProbe } from './parse.ts';
import type { PacketScan } from './run.ts';

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
    expect(result.audio).toMatchObject({ codec: 'aac', channels: 2, sampleRate: 48000 });
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

  it('keeps text subtitle tracks with cues, and notes bitmap ones and those over the cap (#24)', () => {
    const video = { index: 0, codec_type: 'video', codec_name: 'h264', width: 1280, height: 720 };
    const sub = (index: number, codec: string, tags: Record<string, string> = {}, disposition: Record<string, number> = {}) => ({
      index,
      codec_type: 'subtitle',
      codec_name: codec,
      tags,
      disposition,
    });
    const scan: PacketScan = {
      endedEarly: false,
      streams: new Map([0, 1, 2, 3, 4].map((i) => [i, { packets: i === 4 ? 0 : 10, first: 0, end: 4 }])),
    };
    const result = parseProbe(
      {
        format,
        streams: [
          video,
          sub(1, 'subrip', { language: 'eng', title: 'Director' }, { default: 1 }),
          sub(2, 'hdmv_pgs_subtitle', { language: 'fra' }),
          sub(3, 'ass', {}, { forced: 1 }),
          sub(4, 'mov_text', { language: 'deu' }),
        ],
      },
      scan,
    );
    expect(result.subtitles).toEqual([
      { index: 1, codec: 'subrip', language: 'eng', title: 'Director', default: true, forced: false },
      { index: 3, codec: 'ass', default: false, forced: true },
    ]);
    expect(result.notes).toEqual(['subtitle track 2 (fra) (PGS bitmap) was not converted: only text subtitles become captions']);

    const many = parseProbe({ format, streams: [video, ...Array.from({ length: 18 }, (_, i) => sub(i + 1, 'subrip'))] });
    expect(many.subtitles).toHaveLength(16);
    expect(many.notes).toEqual([
      'subtitle track 17 was not converted: at most 16 subtitle tracks are',
      'subtitle track 18 was not converted: at most 16 subtitle tracks are',
    ]);
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

describe('parseProbe: what real uploads declare', () => {
  const format = { format_name: 'matroska,webm', duration: '10.000' };
  const h264 = { index: 0, codec_type: 'video', codec_name: 'h264', width: 1280, height: 720 };
  const scanOf = (entries: [number, number, number, number][], endedEarly = false): PacketScan => ({
    streams: new Map(entries.map(([i, packets, first, end]) => [i, { packets, first, end }])),
    endedEarly,
  });

  it('a frame rate equal to the container timebase (1000/1 in MKV and FLV) is not the frame rate', () => {
    const video = { ...h264, time_base: '1/1000' };
    expect(parseProbe({ format, streams: [{ ...video, avg_frame_rate: '1000/1', r_frame_rate: '60/1' }] }).video.frameRate).toBe(60);
    expect(parseProbe({ format, streams: [{ ...video, avg_frame_rate: '200/19', r_frame_rate: '1000/1' }] }).video.frameRate).toBeCloseTo(
      10.526,
      3,
    );
    // Nothing plausible declared: the packets are counted.
    const counted = parseProbe(
      { format, streams: [{ ...video, avg_frame_rate: '0/0', r_frame_rate: '1000/1' }] },
      scanOf([[0, 251, 0, 10]]),
    );
    expect(counted.video.frameRate).toBeCloseTo(25.1, 1);
  });

  it('two packets a frame (field-coded interlaced video) keep the declared rate', () => {
    const interlaced = { ...h264, time_base: '1/90000', avg_frame_rate: '30000/1001', r_frame_rate: '60000/1001', field_order: 'tt' };
    const result = parseProbe({ format, streams: [interlaced] }, scanOf([[0, 120, 1.4, 3.4]]));
    expect(result.video.frameRate).toBeCloseTo(29.97, 2);
    expect(result.video.fieldOrder).toBe('tt');
  });

  it('the duration is what the packets cover, not what the header claims', () => {
    const result = parseProbe(
      { format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '143165.643' }, streams: [h264] },
      scanOf([[0, 32, 0.0667, 1.135]]),
    );
    expect(result.duration).toBeCloseTo(1.068, 3);
    expect(result.headerDuration).toBeCloseTo(143165.643, 3);
  });

  it('a file that ends early, far short of its header, is a truncated upload', () => {
    const raw = { format: { format_name: 'matroska,webm', duration: '1132.048' }, streams: [h264] };
    expect(() => parseProbe(raw, scanOf([[0, 37, 0, 1.5]], true))).toThrow(expect.objectContaining({ code: 'truncated_input' }));
  });

  it('an empty or channel-less audio stream is dropped with a note; the default track wins', () => {
    const empty = parseProbe({ format, streams: [h264, { index: 1, codec_type: 'audio', codec_name: 'aac', channels: 0 }] });
    expect(empty.audio).toBeUndefined();
    expect(empty.notes.join()).toMatch(/audio/);
    const noData = parseProbe(
      { format, streams: [h264, { index: 1, codec_type: 'audio', codec_name: 'aac', channels: 2 }] },
      scanOf([[0, 250, 0, 10]]),
    );
    expect(noData.audio).toBeUndefined();
    const tracks = parseProbe({
      format,
      streams: [
        h264,
        { index: 1, codec_type: 'audio', codec_name: 'aac', channels: 2, disposition: { default: 0 } },
        { index: 2, codec_type: 'audio', codec_name: 'ac3', channels: 6, disposition: { default: 1 } },
      ],
    });
    expect(tracks.audio).toMatchObject({ index: 2, codec: 'ac3' });
  });

  it('a declared video track without samples is skipped for the one with frames', () => {
    const result = parseProbe(
      {
        format,
        streams: [
          { ...h264, index: 0 },
          { ...h264, index: 1, width: 640, height: 360 },
        ],
      },
      scanOf([[1, 30, 0, 1]]),
    );
    expect(result.video).toMatchObject({ index: 1, width: 640 });
  });

  it('a codec without a decoder is unsupported_codec, named for people', () => {
    const vvc = { index: 0, codec_type: 'video', codec_name: 'unknown', codec_tag_string: 'vvc1', width: 320, height: 180 };
    expect(() => parseProbe({ format, streams: [vvc] })).toThrow(/VVC\/H\.266.*cannot decode/);
  });

  it('one frame of an image codec is a still, not a video', () => {
    const gif = { index: 0, codec_type: 'video', codec_name: 'gif', width: 320, height: 240 };
    expect(() => parseProbe({ format: { format_name: 'gif' }, streams: [gif] }, scanOf([[0, 1, 0, 0.1]]))).toThrow(
      expect.objectContaining({ code: 'not_a_video' }),
    );
    expect(parseProbe({ format: { format_name: 'gif' }, streams: [gif] }, scanOf([[0, 20, 0, 2]])).video.codec).toBe('gif');
  });

  it('reads HDR colour tags', () => {
    const hlg = { ...h264, color_transfer: 'arib-std-b67', color_primaries: 'bt2020', color_space: 'bt2020nc', color_range: 'tv' };
    expect(parseProbe({ format, streams: [hlg] }).video.colour).toEqual({
      transfer: 'arib-std-b67',
      primaries: 'bt2020',
      matrix: 'bt2020nc',
      range: 'tv',
    });
    expect(parseProbe({ format, streams: [{ ...h264, color_transfer: 'unknown' }] }).video.colour.transfer).toBe('');
  });
});
