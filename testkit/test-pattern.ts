/** The lavfi test pattern as the tests and the bench encode it (the live ingest's publishers). */
export interface TestPatternOptions {
  seconds?: number;
  size?: string;
  rate?: number;
  /** Frames between keyframes. */
  gop?: number;
  audio?: boolean;
  /** Replaces the video encoder settings (x264 ultrafast, zerolatency, `gop`). */
  videoArgs?: string[];
  audioArgs?: string[];
}

/**
 * ffmpeg's input and encoder arguments for the lavfi test pattern (and a 440 Hz tone), encoded as an encoder
 * would: H.264 with a keyframe every `gop` frames, AAC. The caller adds the output.
 */
export function testPatternArgs({
  seconds = 8,
  size = '1280x720',
  rate = 30,
  gop = 60,
  audio = true,
  videoArgs,
  audioArgs = ['-c:a', 'aac', '-b:a', '96k'],
}: TestPatternOptions = {}): string[] {
  return [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=${rate}`,
    ...(audio ? ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'] : []),
    '-t',
    String(seconds),
    ...(videoArgs ?? ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(gop), '-pix_fmt', 'yuv420p']),
    ...(audio ? audioArgs : []),
  ];
}
