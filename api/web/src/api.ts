/**
 * Talking to the reelay API from the page. With API keys on, the person
 * connecting types a key once: it stays in this module's memory (never in
 * storage, never in the page's source) and is used only to ask the server for
 * short-lived tokens (`POST /v1/tokens`) and for plain JSON calls; anything a
 * URL must carry (event streams, playlists, segments, the storyboard) carries
 * a token instead.
 */
let apiKey: string | undefined;
let onUnauthorized: (() => void) | undefined;

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export function setApiKey(key: string | undefined): void {
  apiKey = key || undefined;
}

export function hasApiKey(): boolean {
  return apiKey !== undefined;
}

export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export function authHeaders(): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { ...init, headers: { ...authHeaders(), ...(init.headers as Record<string, string> | undefined) } });
  if (res.status === 401) onUnauthorized?.();
  if (!res.ok) {
    const problem = (await res.json().catch(() => ({}))) as { detail?: string; title?: string };
    throw new ApiError(res.status, problem.detail ?? problem.title ?? `${res.status} ${res.statusText}`);
  }
  return (await res.json()) as T;
}

export type TokenScope = 'upload' | 'watch' | 'playback';

/**
 * A short-lived token for a URL to carry, or undefined when none is needed
 * (keys off). Tokens are reused until a minute before they expire.
 */
const tokens = new Map<string, { token: string; expiresAt: number }>();
export async function token(
  scope: TokenScope,
  target: { videoId?: string; channelId?: string } = {},
  ttlSeconds?: number,
): Promise<string | undefined> {
  if (!apiKey) return undefined;
  const { videoId, channelId } = target;
  const cacheKey = `${scope}:${videoId ?? ''}:${channelId ?? ''}`;
  const cached = tokens.get(cacheKey);
  if (cached && cached.expiresAt - Date.now() > 60_000 && scope !== 'upload') return cached.token;
  const issued = await api<{ token: string; expiresAt: string }>('/v1/tokens', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      scope,
      ...(videoId ? { videoId } : {}),
      ...(channelId ? { channelId } : {}),
      ...(ttlSeconds ? { ttlSeconds } : {}),
    }),
  });
  tokens.set(cacheKey, { token: issued.token, expiresAt: Date.parse(issued.expiresAt) });
  return issued.token;
}

/** `path` with `?token=` when there is one. */
export function withToken(path: string, t: string | undefined): string {
  return t ? `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(t)}` : path;
}

export interface VideoOutput {
  width: number;
  height: number;
  url: string;
}

export interface Video {
  id: string;
  status: 'queued' | 'processing' | 'ready' | 'failed';
  title?: string;
  progress?: number;
  /** Set while `processing` once the HLS presentation plays (video.playable): "watch now". */
  playable?: boolean;
  error?: { code: string; message: string };
  createdAt: string;
  source: { duration?: number; bytes: number };
  outputs: Record<string, VideoOutput>;
  hls?: { url: string };
  storyboard?: { url: string; spriteUrl: string };
}

/** A live channel, as GET /v1/channels lists it. */
export interface Channel {
  id: string;
  name?: string;
  status: 'live' | 'offline';
  session?: { sessionId: string; title?: string; startedAt: string; origin?: 'ingest' };
  links: { self: string; hls?: string };
}
