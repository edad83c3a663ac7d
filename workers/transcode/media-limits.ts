import type { Config } from '../../core/config/index.ts';
import { PermanentJobError } from '../../core/errors.ts';
import { ALLOWED_DEMUXERS } from './ffmpeg/hardening.ts';
import type { ProbeResult } from './ffmpeg/probe.ts';

export type MediaLimits = Config['limits'];

/**
 * Checks a probed upload against the limits before any decoding starts. A
 * header can claim anything (100000×100000 pixels, a ten-day duration), and
 * the transcode would pay for the claim: each breach is a permanent failure.
 */
export function checkMediaLimits(probe: ProbeResult, limits: MediaLimits): void {
  const { width, height, frameRate } = probe.video;
  if (width * height > limits.maxPixels) {
    throw new PermanentJobError(
      'too_large',
      `the video is ${width}x${height} (${width * height} pixels); the limit is ${limits.maxPixels} pixels (REELAY_MAX_PIXELS)`,
    );
  }
  if (probe.duration > limits.maxDurationSeconds) {
    throw new PermanentJobError(
      'too_long',
      `the video lasts ${Math.round(probe.duration)}s; the limit is ${limits.maxDurationSeconds}s (REELAY_MAX_DURATION_SECONDS)`,
    );
  }
  if (frameRate > limits.maxFrameRate) {
    throw new PermanentJobError(
      'frame_rate_too_high',
      `the video runs at ${Math.round(frameRate)} frames per second; the limit is ${limits.maxFrameRate} (REELAY_MAX_FRAME_RATE)`,
    );
  }
}

/**
 * The demuxer to force for the transcode, from the probe's format name
 * (`mov,mp4,m4a,3gp,3g2,mj2` → `mov`): ffmpeg must not guess again on a file
 * whose first bytes could be read differently the second time.
 */
export function demuxerFor(formatName: string): string {
  const names = formatName.split(',');
  const allowed = (ALLOWED_DEMUXERS as readonly string[]).find((d) => names.includes(d));
  if (!allowed) throw new PermanentJobError('unsupported_format', `the container format ${formatName} is not accepted`);
  return allowed;
}
