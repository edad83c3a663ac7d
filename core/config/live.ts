import type { Reader } from './reader.ts';
import type { LiveSettings } from './schema.ts';

/** The live ingest's variables (`REELAY_LIVE_*`); REELAY_LIVE_RTMP_URL is also the API's `ingest.rtmp`. */
export function readLive(r: Reader, presets: readonly string[]): LiveSettings {
  const rtmpPort = r.int('REELAY_LIVE_RTMP_PORT', 1935, 0, 65_535);
  return {
    host: r.str('REELAY_LIVE_HOST', '127.0.0.1'),
    rtmpPort,
    rtmpUrl: r.str(
      'REELAY_LIVE_RTMP_URL',
      `rtmp://localhost:${rtmpPort || 1935}/live`,
      /^rtmps?:\/\/[^\s/]+\/[A-Za-z0-9_-]+$/,
      'rtmp://host[:port]/app',
    ),
    maxConnections: r.int('REELAY_LIVE_MAX_CONNECTIONS', 64, 1, 10_000),
    maxStreams: r.int('REELAY_LIVE_MAX_STREAMS', 4, 1, 1000),
    reconnectGraceMs: Math.round(r.decimal('REELAY_LIVE_RECONNECT_GRACE_SECONDS', 10, 0, 3600) * 1000),
    stallMs: Math.round(r.decimal('REELAY_LIVE_STALL_SECONDS', 5, 0.5, 600) * 1000),
    dvrWindowMs: r.int('REELAY_LIVE_DVR_SECONDS', 120, 0, 6 * 3600) * 1000,
    passthrough: r.oneOf('REELAY_LIVE_PASSTHROUGH', 'true', ['true', 'false']) === 'true',
    preset: r.oneOf('REELAY_LIVE_X264_PRESET', 'veryfast', presets),
    maxBitrateKbps: r.int('REELAY_LIVE_MAX_BITRATE_KBPS', 20_000, 100, 1_000_000),
    maxPixels: r.int('REELAY_LIVE_MAX_PIXELS', 1920 * 1080, 64, 8192 * 4320),
    maxFrameRate: r.int('REELAY_LIVE_MAX_FRAME_RATE', 60, 1, 240),
    leaseMs: Math.round(r.decimal('REELAY_LIVE_LEASE_SECONDS', 15, 1, 600) * 1000),
  };
}
