export interface ClipOptions {
  seconds: number;
  width?: number;
  height?: number;
  fps?: number;
}

/**
 * ffmpeg arguments for a synthetic source: testsrc2 (moving test pattern) and a 440 Hz sine,
 * H.264 High + AAC in MP4, like a phone or camera upload (the bench's clips and the tests' long sources).
 */
export function clipArgv(file: string, { seconds, width = 1920, height = 1080, fps = 30 }: ClipOptions): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${width}x${height}:rate=${fps}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    String(seconds),
    '-map',
    '0:v',
    '-map',
    '1:a',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '20',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(fps * 2),
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-ac',
    '2',
    '-movflags',
    '+faststart',
    file,
  ];
}
