import './style.css';
import { api, hasApiKey, setApiKey, whenUnauthorized, type Channel, type Video } from './api.ts';
import { play, playLive, setupPlayer } from './player.ts';
import { connectPush, type PushEvent } from './push.ts';
import { hasTus, uploadFile } from './upload.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const videos = new Map<string, Video>();

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function toast(text: string, action?: { label: string; run: () => void }): void {
  const el = document.createElement('div');
  el.className = 'toast';
  el.textContent = text;
  if (action) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = action.label;
    button.addEventListener('click', () => {
      el.remove();
      action.run();
    });
    el.append(button);
  }
  $('toasts').append(el);
  setTimeout(() => el.remove(), action ? 15_000 : 8000);
}

const channels = new Map<string, Channel>();

function watch(channel: Channel): void {
  playLive(channel).catch((err: Error) => toast(err.message));
}

/** The live channels: a row each, with Watch for those on reelay's ingest (a channel started by hand has no stream here). */
function renderChannels(): void {
  const live = [...channels.values()].filter((c) => c.status === 'live');
  $('no-channels').hidden = live.length > 0;
  $('channels').replaceChildren(
    ...live.map((c) => {
      const li = document.createElement('li');
      li.dataset.channel = c.id;
      const name = document.createElement('span');
      name.textContent = c.session?.title ?? c.name ?? c.id;
      const state = document.createElement('span');
      state.className = 'state live';
      state.textContent = 'live';
      const parts: HTMLElement[] = [name, state];
      if (c.links.hls) {
        const button = document.createElement('button');
        button.className = 'play';
        button.type = 'button';
        button.textContent = 'Watch';
        button.addEventListener('click', () => watch(c));
        parts.push(button);
      } else {
        const note = document.createElement('span');
        note.className = 'muted';
        note.textContent = 'not on reelay’s ingest';
        parts.push(note);
      }
      li.append(...parts);
      return li;
    }),
  );
}

async function loadChannels(): Promise<void> {
  const page = await api<{ items: Channel[] }>('/v1/channels').catch(() => ({ items: [] }));
  channels.clear();
  for (const c of page.items) channels.set(c.id, c);
  renderChannels();
}

async function refreshChannel(id: string): Promise<Channel | undefined> {
  const c = await api<Omit<Channel, 'id'> & { channelId: string }>(`/v1/channels/${encodeURIComponent(id)}/live`).catch(() => undefined);
  if (!c) return undefined;
  const channel: Channel = { ...c, id: c.channelId };
  channels.set(id, channel);
  renderChannels();
  return channel;
}

/** One row of the recent videos list, drawn from what we know of the video. */
function render(v: Video): void {
  let li = document.querySelector<HTMLLIElement>(`li[data-video="${v.id}"]`);
  if (!li) {
    li = document.createElement('li');
    li.dataset.video = v.id;
    $('videos').prepend(li);
  }
  li.dataset.status = v.status;
  const title = document.createElement('span');
  title.textContent = v.title ?? v.id;
  const state = document.createElement('span');
  state.className = `state ${v.status}`;
  state.dataset.testid = 'state';
  state.textContent = v.status === 'processing' && v.progress !== undefined ? `processing ${Math.round(v.progress)} %` : v.status;
  const parts: HTMLElement[] = [title, state];
  if (v.status === 'processing') {
    const bar = document.createElement('progress');
    bar.max = 100;
    bar.value = v.progress ?? 0;
    parts.push(bar);
  }
  if (v.status === 'failed' && v.error) {
    const reason = document.createElement('span');
    reason.className = 'reason';
    reason.textContent = v.error.message;
    parts.push(reason);
  }
  // Playable while encoding: "watch now" beside the progress; hls.js follows the playlists as they grow.
  const watchNow = v.status === 'processing' && v.playable === true;
  if ((v.status === 'ready' || watchNow) && v.hls) {
    const button = document.createElement('button');
    button.className = 'play';
    button.type = 'button';
    button.textContent = watchNow ? 'Watch now' : 'Play';
    button.addEventListener('click', () => play(v).catch((err: Error) => toast(err.message)));
    parts.push(button);
  }
  li.replaceChildren(...parts);
}

function upsert(v: Video): void {
  videos.set(v.id, v);
  render(v);
}

async function onEvent(e: PushEvent): Promise<void> {
  if (e.type === 'live.started') {
    const d = e.data as { channelId: string; title?: string };
    const channel = await refreshChannel(d.channelId);
    toast(`🔴 ${d.title ?? d.channelId} is live`, channel?.links.hls ? { label: 'Watch', run: () => watch(channel) } : undefined);
    return;
  }
  if (e.type === 'live.ended') {
    await refreshChannel((e.data as { channelId: string }).channelId);
    return;
  }
  if (!e.type.startsWith('video.')) return;
  const id = (e.data as { videoId: string }).videoId;
  const known = videos.get(id);
  if (
    e.type === 'video.playable' ||
    e.type === 'video.ready' ||
    e.type === 'video.failed' ||
    e.type.startsWith('video.captions.') ||
    !known
  ) {
    // The event says what happened; the video says everything (outputs, HLS, the reason).
    const fresh = await api<Video>(`/v1/videos/${id}`).catch(() => undefined);
    if (fresh) upsert(fresh);
    return;
  }
  const status = e.type.slice('video.'.length);
  if (status === 'progress') upsert({ ...known, status: 'processing', progress: (e.data as { percent: number }).percent });
  else if (status === 'queued' || status === 'processing') upsert({ ...known, status, progress: status === 'processing' ? 0 : undefined });
}

async function loadRecent(): Promise<void> {
  const page = await api<{ items: Video[] }>('/v1/videos?limit=20');
  $('videos').replaceChildren();
  for (const v of [...page.items].reverse()) upsert(v);
}

async function start(): Promise<void> {
  await loadRecent();
  await loadChannels();
  await connectPush(
    (e) => void onEvent(e),
    (name) => ($('transport').textContent = name),
  );
  $('upload-method').textContent = (await hasTus()) ? 'Resumable uploads (tus) to /v1/tus/' : 'Uploads: multipart POST /v1/videos';
}

function uploadRow(file: File): { progress: HTMLProgressElement; text: HTMLSpanElement; li: HTMLLIElement } {
  const li = document.createElement('li');
  const name = document.createElement('span');
  name.textContent = file.name;
  const text = document.createElement('span');
  text.dataset.testid = 'upload-percent';
  const progress = document.createElement('progress');
  progress.max = file.size;
  progress.value = 0;
  li.append(name, text, progress);
  $('uploads').prepend(li);
  return { progress, text, li };
}

async function upload(file: File): Promise<void> {
  const row = uploadRow(file);
  try {
    const { id } = await uploadFile(file, {
      onProgress(sent, total) {
        row.progress.max = total;
        row.progress.value = sent;
        row.text.textContent = `${mib(sent)} of ${mib(total)} · ${Math.floor((sent / total) * 100)} %`;
      },
    });
    row.li.dataset.video = `upload-${id}`;
    if (!videos.has(id)) upsert(await api<Video>(`/v1/videos/${id}`));
  } catch (err) {
    row.text.textContent = `failed: ${(err as Error).message}`;
  }
}

function setupUpload(): void {
  const drop = $('drop');
  const input = $<HTMLInputElement>('file');
  input.addEventListener('change', () => {
    for (const f of input.files ?? []) void upload(f);
    input.value = '';
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    for (const f of e.dataTransfer?.files ?? []) void upload(f);
  });
}

function setupAuth(): void {
  whenUnauthorized(() => {
    $('auth').hidden = false;
    if (hasApiKey()) {
      $('auth-error').hidden = false;
      $('auth-error').textContent = 'That key was refused.';
    }
  });
  $('auth-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $<HTMLInputElement>('api-key');
    setApiKey(input.value.trim());
    input.value = '';
    start()
      .then(() => ($('auth').hidden = true))
      .catch(() => undefined);
  });
}

setupAuth();
setupUpload();
setupPlayer();
start().catch(() => undefined);
