import { describe, expect, it } from 'vitest';
import {
  appendQueryToUris,
  avcCodecFromInit,
  parseMediaPlaylist,
  variantBitrates,
  writeMasterPlaylist,
  writeMediaPlaylist,
} from './hls-playlist.ts';

// What ffmpeg 5.1's hls muxer writes for an fMP4 VOD variant.
const FFMPEG_VARIANT = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4.000000,
seg_00000.m4s
#EXTINF:4.000000,
seg_00001.m4s
#EXTINF:1.533333,
seg_00002.m4s
#EXT-X-ENDLIST
`;

describe('parseMediaPlaylist', () => {
  it('reads the init segment, every segment with its duration and the end marker', () => {
    const p = parseMediaPlaylist(FFMPEG_VARIANT);
    expect(p.targetDuration).toBe(4);
    expect(p.map).toBe('init.mp4');
    expect(p.endList).toBe(true);
    expect(p.segments).toEqual([
      { uri: 'seg_00000.m4s', duration: 4 },
      { uri: 'seg_00001.m4s', duration: 4 },
      { uri: 'seg_00002.m4s', duration: 1.533333 },
    ]);
  });

  it('refuses text that is not a playlist, and a segment without #EXTINF', () => {
    expect(() => parseMediaPlaylist('hello')).toThrow(/#EXTM3U/);
    expect(() => parseMediaPlaylist('#EXTM3U\nseg.m4s\n')).toThrow(/no #EXTINF/);
  });
});

describe('writeMasterPlaylist', () => {
  it('lists variants lowest bandwidth first with every attribute players need', () => {
    const text = writeMasterPlaylist([
      {
        uri: '720p/index.m3u8',
        bandwidth: 2_500_000.4,
        averageBandwidth: 2_000_000,
        width: 1280,
        height: 720,
        codecs: 'avc1.64001f,mp4a.40.2',
        frameRate: 30,
      },
      {
        uri: '360p/index.m3u8',
        bandwidth: 800_000,
        averageBandwidth: 600_000,
        width: 640,
        height: 360,
        codecs: 'avc1.64001e,mp4a.40.2',
        frameRate: 29.97,
      },
    ]);
    expect(text.split('\n')).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-STREAM-INF:BANDWIDTH=800000,AVERAGE-BANDWIDTH=600000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=29.970',
      '360p/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=2500000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000',
      '720p/index.m3u8',
      '',
    ]);
  });
});

describe('variantBitrates', () => {
  it('takes the peak over full segments and the average over all bytes', () => {
    const { peak, average } = variantBitrates(
      [
        { uri: 'a', duration: 4, bytes: 400_000 },
        { uri: 'b', duration: 4, bytes: 600_000 },
        { uri: 'c', duration: 0.2, bytes: 50_000 },
      ],
      1000,
    );
    expect(peak).toBe(1_200_000);
    expect(average).toBe(Math.ceil((1_051_000 * 8) / 8.2));
  });
});

describe('avcCodecFromInit', () => {
  it('reads profile, constraint flags and level from the avcC box', () => {
    // … 'avcC', version 1, profile 0x64 (High), flags 0x00, level 0x1f (3.1), then the rest of the record.
    const box = Buffer.concat([Buffer.from([0, 0, 0, 40]), Buffer.from('avcC'), Buffer.from([1, 0x64, 0x00, 0x1f, 0xff, 0xe1])]);
    expect(avcCodecFromInit(Buffer.concat([Buffer.alloc(30), box]))).toBe('avc1.64001f');
    const baseline = Buffer.concat([Buffer.from('avcC'), Buffer.from([1, 0x42, 0xc0, 0x1e, 0xff])]);
    expect(avcCodecFromInit(baseline)).toBe('avc1.42c01e');
  });

  it('refuses a file without one', () => {
    expect(() => avcCodecFromInit(Buffer.from('ftypisom'))).toThrow(/avcC/);
  });
});

describe('appendQueryToUris', () => {
  it('adds the token to segment lines and URI attributes, not to tags or absolute URLs', () => {
    const out = appendQueryToUris(FFMPEG_VARIANT + 'https://cdn.example/x.m4s\n', 'token=abc');
    expect(out).toContain('#EXT-X-MAP:URI="init.mp4?token=abc"');
    expect(out).toContain('\nseg_00001.m4s?token=abc\n');
    expect(out).toContain('#EXTINF:4.000000,\n');
    expect(out).toContain('\nhttps://cdn.example/x.m4s\n');
  });

  it('leaves the playlist alone without a query', () => {
    expect(appendQueryToUris(FFMPEG_VARIANT, '')).toBe(FFMPEG_VARIANT);
  });
});

describe('writeMediaPlaylist', () => {
  const segments = [
    { uri: 'seg_00000.m4s', duration: 1 },
    { uri: 'seg_00001.m4s', duration: 1 },
    { uri: 'seg_00002.m4s', duration: 2 },
  ];

  it('writes a growing EVENT playlist: no ENDLIST, the target duration fixed at the grid from the first segment', () => {
    const text = writeMediaPlaylist({ type: 'EVENT', map: 'init.mp4', segments, minTargetDuration: 4 });
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:EVENT\n');
    expect(text).toContain('#EXT-X-TARGETDURATION:4\n');
    expect(text).not.toContain('#EXT-X-ENDLIST');
    const parsed = parseMediaPlaylist(text);
    expect(parsed).toEqual({ targetDuration: 4, map: 'init.mp4', segments, endList: false });
  });

  it('writes the finished playlist as VOD with ENDLIST, the same segment lines', () => {
    const text = writeMediaPlaylist({ type: 'VOD', map: 'init.mp4', segments, minTargetDuration: 4 });
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD\n');
    expect(text.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    expect(parseMediaPlaylist(text).segments).toEqual(segments);
  });

  it('raises the target duration for a longer segment (RFC 8216: rounded EXTINF ≤ target)', () => {
    const text = writeMediaPlaylist({ type: 'VOD', map: 'init.mp4', segments: [{ uri: 'a.m4s', duration: 5.6 }], minTargetDuration: 4 });
    expect(text).toContain('#EXT-X-TARGETDURATION:6\n');
  });
});

describe('writeMasterPlaylist while the video encodes', () => {
  it('leaves AVERAGE-BANDWIDTH out when it is not measured yet', () => {
    const text = writeMasterPlaylist([
      { uri: '360p/index.m3u8', bandwidth: 1_096_000, width: 640, height: 360, codecs: 'avc1.64001e,mp4a.40.2', frameRate: 30 },
    ]);
    expect(text).toContain('#EXT-X-STREAM-INF:BANDWIDTH=1096000,RESOLUTION=640x360,');
    expect(text).not.toContain('AVERAGE-BANDWIDTH');
  });
});
