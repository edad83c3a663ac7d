import { testPatternArgs } from './test-pattern.ts';

export interface ClipOptions {
  seconds: number;
  width?: number;
  height?: number;
  fps?: number;
}

/**
 * ffmpeg arguments for a synthetic upload: the test pattern (testsrc2 and a 440 Hz sine) encoded like a phone
 * or camera file, H.264 High CRF 20 with a keyframe every 2 s + AAC in a faststart MP4 (the bench's clips and
 * the tests' long sources).
 */
export function clipArgv(file: string, { seconds, width = 1920, height = 1080, fps = 30 }: ClipOptions): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    ...testPatternArgs({
      seconds,
      size: `${width}x${height}`,
      rate: fps,
      videoArgs: ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-g', String(fps * 2)],
      audioArgs: ['-c:a', 'aac', '-b:a', '128k', '-ac', '2'],
    }),
    '-map',
    '0:v',
    '-map',
    '1:a',
    '-movflags',
    '+faststart',
    file,
  ];
}
