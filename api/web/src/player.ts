/**
 * Playback with hls.js: adaptive (automatic rendition switching) unless a
 * quality is picked, a timeline with storyboard previews on hover, and
 * Safari's native HLS where MSE is missing.
 */
// The light build: no subtitles, alternate audio or DRM, which reelay does not produce.
import Hls from 'hls.js/light';
import { token, withToken, type Video } from './api.ts';
import { parseStoryboard, tileAt, type Tile } from './storyboard.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let hls: Hls | undefined;
let tiles: Tile[] = [];

function clock(t: number): string {
  if (!Number.isFinite(t)) return '0:00';
  const s = Math.floor(t);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function setupPlayer(): void {
  const video = $<HTMLVideoElement>('player');
  const timeline = $('timeline');
  const fill = $('timeline-fill');
  const preview = $('preview');
  const previewImage = $('preview-image');
  const previewTime = $('preview-time');
  const toggle = $<HTMLButtonElement>('play-toggle');
  const quality = $<HTMLSelectElement>('quality');

  const tick = () => {
    const d = video.duration || 0;
    fill.style.width = d ? `${(video.currentTime / d) * 100}%` : '0';
    $('clock').textContent = `${clock(video.currentTime)} / ${clock(d)}`;
  };
  video.addEventListener('timeupdate', tick);
  video.addEventListener('durationchange', tick);
  video.addEventListener('play', () => (toggle.textContent = 'Pause'));
  video.addEventListener('pause', () => (toggle.textContent = 'Play'));
  toggle.addEventListener('click', () => void (video.paused ? video.play() : video.pause()));

  const timeAt = (e: MouseEvent) => {
    const r = timeline.getBoundingClientRect();
    return Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)) * (video.duration || 0);
  };
  timeline.addEventListener('mousemove', (e) => {
    const t = timeAt(e);
    const tile = tileAt(tiles, t);
    previewTime.textContent = clock(t);
    if (tile) {
      previewImage.style.width = `${tile.w}px`;
      previewImage.style.height = `${tile.h}px`;
      previewImage.style.backgroundImage = `url("${tile.url}")`;
      previewImage.style.backgroundPosition = `-${tile.x}px -${tile.y}px`;
    }
    preview.style.left = `${e.clientX - timeline.getBoundingClientRect().left}px`;
    preview.hidden = false;
    preview.dataset.time = t.toFixed(2);
  });
  timeline.addEventListener('mouseleave', () => (preview.hidden = true));
  timeline.addEventListener('click', (e) => (video.currentTime = timeAt(e)));

  quality.addEventListener('change', () => {
    if (!hls) return;
    // -1: automatic switching; otherwise lock to the picked level now (flushes the buffer so it shows at once).
    hls.currentLevel = Number(quality.value);
  });
}

export async function play(v: Video): Promise<void> {
  if (!v.hls) throw new Error('this video has no HLS presentation');
  const video = $<HTMLVideoElement>('player');
  $('player-section').hidden = false;
  $('player-title').textContent = v.title ?? v.id;
  // Segment URLs carry the token for as long as the video plays: ask for enough time to watch it (and pause) twice.
  const ttl = Math.min(86_400, Math.max(900, Math.ceil((v.source.duration ?? 0) * 3) + 900));
  const t = await token('playback', v.id, ttl);
  const master = withToken(v.hls.url, t);
  hls?.destroy();
  hls = undefined;
  tiles = [];
  const quality = $<HTMLSelectElement>('quality');
  quality.replaceChildren(new Option('Auto', '-1'));
  const level = $('level');

  if (Hls.isSupported()) {
    const h = new Hls({ capLevelToPlayerSize: false });
    hls = h;
    h.on(Hls.Events.MANIFEST_PARSED, (_e, data) => {
      data.levels.forEach((l, i) => quality.add(new Option(`${l.height}p`, String(i))));
    });
    h.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
      const l = h.levels[data.level];
      level.textContent = l ? `playing ${l.width}x${l.height}` : '';
      level.dataset.height = String(l?.height ?? '');
    });
    h.loadSource(master);
    h.attachMedia(video);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = master;
  } else {
    throw new Error('this browser cannot play HLS');
  }
  video.play().catch(() => undefined);

  if (v.storyboard) {
    const vttUrl = new URL(withToken(v.storyboard.url, t), location.href).href;
    const res = await fetch(vttUrl);
    if (res.ok) tiles = parseStoryboard(await res.text(), vttUrl);
  }
  (window as unknown as { reelay?: unknown }).reelay = { hls, video, tiles };
}
