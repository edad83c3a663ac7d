import { tenantFolder } from '../tenants.ts';

/**
 * Where a live session's files are. In the media bucket, the presentation players fetch:
 * `live/<channelId>/<sessionId>/master.m3u8`, `…/<rendition>/index.m3u8`, `…/<rendition>/init-<run>.mp4`,
 * `…/<rendition>/<sequence>.m4s` (under `tenants/<tenant>/` for tenants other than `default`). In the raw
 * bucket, the recording as it arrives: `live-recordings/<channelId>/<sessionId>/<run>-<part>.ts`, joined into
 * the recording's video source when the session ends.
 */
export function livePresentationPrefix(tenant: string, channelId: string, sessionId: string): string {
  return `${tenantFolder(tenant, 'live')}/${channelId}/${sessionId}/`;
}

export const LIVE_MASTER_PLAYLIST = 'master.m3u8';
export const LIVE_MEDIA_PLAYLIST = 'index.m3u8';

export function recordingPrefix(tenant: string, channelId: string, sessionId: string): string {
  return `${tenantFolder(tenant, 'live-recordings')}/${channelId}/${sessionId}/`;
}

/**
 * `0003-000012-0000061500.ts`: run, part, and where the part ends on the session's recording timeline (ms).
 * Listing the prefix returns the parts in recording order; a run that continues the session (a reconnect,
 * maybe on another ingest process) starts its timestamps after the last part's end, so the joined parts play
 * as one continuous recording.
 */
export function recordingPartName(run: number, part: number, endMs: number): string {
  return `${String(run).padStart(4, '0')}-${String(part).padStart(6, '0')}-${String(Math.max(0, Math.round(endMs))).padStart(10, '0')}.ts`;
}

/** Where a recording part (named by recordingPartName) ends, ms; undefined for another name. */
export function recordingPartEndMs(key: string): number | undefined {
  const match = /(\d{4})-(\d{6})-(\d{10})\.ts$/.exec(key);
  return match ? Number(match[3]) : undefined;
}
