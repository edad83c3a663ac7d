import type { Config } from '../../core/config/index.ts';
import { jobError } from '../../core/job-errors.ts';
import { ALLOWED_DEMUXERS } from './ffmpeg/hardening.ts';
import type { ProbeResult } from './ffmpeg/probe/index.ts';

export type MediaLimits = Config['limits'];

/**
 * Checks a probed upload against the limits before any decoding starts. A
 * header can claim anything (100000×100000 pixels, a ten-day duration), and
 * the transcode would pay for the claim: each breach is a permanent failure.
 */
export function checkMediaLimits(probe: ProbeResult, limits: MediaLimits): void {
  const { width, height, frameRate } = probe.video;
  if (width * height > limits.maxPixels) throw jobError('TOO_LARGE', { width, height, limit: limits.maxPixels });
  if (probe.duration > limits.maxDurationSeconds) throw jobError('TOO_LONG', { seconds: probe.duration, limit: limits.maxDurationSeconds });
  if (frameRate > limits.maxFrameRate) throw jobError('FRAME_RATE_TOO_HIGH', { frameRate, limit: limits.maxFrameRate });
}

/**
 * The demuxer to force for the transcode, from the probe's format name
 * (`mov,mp4,m4a,3gp,3g2,mj2` → `mov`): ffmpeg must not guess again on a file
 * whose first bytes could be read differently the second time.
 */
export function demuxerFor(formatName: string): string {
  const names = formatName.split(',');
  const allowed = (ALLOWED_DEMUXERS as readonly string[]).find((d) => names.includes(d));
  if (!allowed) throw jobError('FORMAT_NOT_ACCEPTED', formatName);
  return allowed;
}
