/**
 * Playback with hls.js: adaptive (automatic rendition switching) unless a
 * quality is picked, captions from the master's SUBTITLES group (the CC
 * select), a timeline with storyboard previews on hover, and Safari's native
 * HLS where MSE is missing. Ready videos and live channels.
 */
// The full build: the light one has no subtitles (#24's captions need them; +235 KB minified).
import Hls from 'hls.js';
import { token, withToken, type Channel, type Video } from './api.ts';
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

  // hls.js: -1 hides captions; otherwise its subtitle track i, drawn by the browser's own cue renderer.
  // Native HLS (Safari): the option's value is the index among the video's text tracks.
  const captions = $<HTMLSelectElement>('captions');
  captions.addEventListener('change', () => {
    const pick = Number(captions.value);
    if (hls) {
      hls.subtitleTrack = pick;
      hls.subtitleDisplay = pick >= 0;
      return;
    }
    Array.from(video.textTracks).forEach((t, i) => (t.mode = i === pick ? 'showing' : 'disabled'));
  });

  quality.addEventListener('change', () => {
    if (!hls) return;
    // -1: automatic switching; otherwise lock to the picked level now (flushes the buffer so it shows at once).
    hls.currentLevel = Number(quality.value);
  });
}

export async function play(v: Video): Promise<void> {
  if (!v.hls) throw new Error('this video has no HLS presentation');
  // Segment URLs carry the token for as long as the video plays: ask for enough time to watch it (and pause) twice.
  const ttl = Math.min(86_400, Math.max(900, Math.ceil((v.source.duration ?? 0) * 3) + 900));
  const t = await token('playback', { videoId: v.id }, ttl);
  await load({ title: v.title ?? v.id, master: withToken(v.hls.url, t), live: false });
  if (v.storyboard) {
    const vttUrl = new URL(withToken(v.storyboard.url, t), location.href).href;
    const res = await fetch(vttUrl);
    if (res.ok) tiles = parseStoryboard(await res.text(), vttUrl);
  }
}

/**
 * A live channel from its live edge (hls.js keeps three segments behind it; the playlists hold the DVR window,
 * so the timeline can go back). Its first segments take a moment after `live.started`: the master playlist is
 * awaited before hls.js loads it (hls.js does not retry a 404).
 */
export async function playLive(channel: Channel): Promise<void> {
  if (!channel.links.hls) throw new Error(`${channel.name ?? channel.id} is live, but not on reelay's ingest: nothing to play here`);
  const t = await token('playback', { channelId: channel.id }, 4 * 3600);
  const master = withToken(channel.links.hls, t);
  for (let tries = 0; ; tries++) {
    const res = await fetch(master);
    if (res.ok) break;
    if (tries >= 30) throw new Error(`${channel.name ?? channel.id} has nothing to play yet (${res.status})`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await load({ title: channel.name ?? channel.id, master, live: true });
}

async function load({ title, master, live }: { title: string; master: string; live: boolean }): Promise<void> {
  const video = $<HTMLVideoElement>('player');
  $('player-section').hidden = false;
  const heading = $('player-title');
  heading.textContent = title;
  if (live) {
    const badge = document.createElement('span');
    badge.className = 'live-badge';
    badge.textContent = 'LIVE';
    heading.append(badge);
  }
  hls?.destroy();
  hls = undefined;
  tiles = [];
  const quality = $<HTMLSelectElement>('quality');
  quality.replaceChildren(new Option('Auto', '-1'));
  const level = $('level');
  const captions = $<HTMLSelectElement>('captions');
  captions.replaceChildren(new Option('Off', '-1'));

  if (Hls.isSupported()) {
    // A video (even one still encoding, whose EVENT playlists hls.js treats as live: it would join near the
    // newest segment) plays from its start; a live channel from 3 segments behind its live edge.
    const h = new Hls({ capLevelToPlayerSize: false, ...(live ? { liveSyncDurationCount: 3 } : { startPosition: 0 }) });
    hls = h;
    h.on(Hls.Events.MANIFEST_PARSED, (_e, data) => {
      data.levels.forEach((l, i) => quality.add(new Option(`${l.height}p`, String(i))));
    });
    h.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (_e, data) => {
      captions.replaceChildren(new Option('Off', '-1'), ...data.subtitleTracks.map((t, i) => new Option(t.name, String(i))));
      captions.value = String(h.subtitleTrack);
    });
    h.on(Hls.Events.SUBTITLE_TRACK_SWITCH, (_e, data) => (captions.value = String(data.id)));
    h.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
      const l = h.levels[data.level];
      level.textContent = l ? `playing ${l.width}x${l.height}` : '';
      level.dataset.height = String(l?.height ?? '');
    });
    h.loadSource(master);
    h.attachMedia(video);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = master;
    video.textTracks.onaddtrack = () =>
      captions.replaceChildren(
        new Option('Off', '-1'),
        ...Array.from(video.textTracks).map((t, i) => new Option(t.label || t.language, String(i))),
      );
  } else {
    throw new Error('this browser cannot play HLS');
  }
  video.play().catch(() => undefined);
  // For tests and the console: the player as it is now.
  (window as unknown as { reelay?: unknown }).reelay = {
    video,
    live,
    get hls() {
      return hls;
    },
    get tiles() {
      return tiles;
    },
  };
}
