import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CliError, type ApiClient, type ReelayEventView, type VideoView } from './client.ts';
import type { Display, FileDisplay } from './display.ts';
import { describeOutcome } from './describe.ts';
import { titleFromFilename } from '../core/client-text.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.webm': 'video/webm',
  '.avi': 'video/x-msvideo',
  '.ts': 'video/mp2t',
  '.mts': 'video/mp2t',
  '.m2ts': 'video/mp2t',
  '.3gp': 'video/3gpp',
  '.flv': 'video/x-flv',
  '.wmv': 'video/x-ms-wmv',
  '.mpg': 'video/mpeg',
  '.mpeg': 'video/mpeg',
};

export interface UploadOptions {
  priority?: string;
  title?: string;
  wait: boolean;
}

export interface UploadResult {
  file: string;
  video: VideoView;
}

/**
 * `reelay upload FILE…`: every file uploads at once, each with its own
 * progress; with --wait the transcode progress and the outcome come from the
 * server's pushed events (`GET /v1/events`, opened before the first byte is
 * sent, so no event can be missed), never from polling.
 */
export async function uploadFiles(api: ApiClient, files: string[], options: UploadOptions, display: Display): Promise<UploadResult[]> {
  const sizes = await Promise.all(
    files.map(async (file) => {
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) throw new CliError(`${file}: no such file`, 2);
      return info.size;
    }),
  );

  const abort = new AbortController();
  const tracker = new EventTracker();
  try {
    if (options.wait) await api.events({}, (event) => tracker.add(event), abort.signal);
    const results = await Promise.all(
      files.map(async (file, i) => {
        const shown = display.add(path.basename(file), sizes[i]!);
        const queued = await uploadOne(api, file, sizes[i]!, options, shown);
        shown.queued(queued.id);
        if (!options.wait) return { file, video: queued };
        const video = await tracker.follow(api, queued.id, shown);
        shown.done(video.status === 'ready' ? 'ready' : 'failed');
        display.log(describeOutcome(path.basename(file), video, api));
        return { file, video };
      }),
    );
    return results;
  } finally {
    abort.abort();
    display.stop();
  }
}

async function uploadOne(api: ApiClient, file: string, size: number, options: UploadOptions, shown: FileDisplay): Promise<VideoView> {
  const query = new URLSearchParams();
  if (options.priority) query.set('priority', options.priority);
  const title = options.title ?? titleFromFilename(path.basename(file));
  if (title) query.set('title', title);
  let sent = 0;
  const source = createReadStream(file, { highWaterMark: 256 * 1024 });
  source.on('data', (chunk) => {
    sent += chunk.length;
    shown.uploaded(sent);
  });
  const res = await api.fetch(`/v1/videos?${query}`, {
    method: 'POST',
    headers: {
      'content-type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': String(size),
    },
    body: Readable.toWeb(source) as ReadableStream<Uint8Array>,
    duplex: 'half',
  });
  return (await res.json()) as VideoView;
}

/** Events from the stream, by video, so one that arrives before its upload has answered is not lost. */
class EventTracker {
  private readonly byVideo = new Map<string, ReelayEventView[]>();
  private readonly waiters = new Map<string, () => void>();

  add(event: ReelayEventView): void {
    const videoId = (event.data as { videoId?: string }).videoId ?? event.subject;
    const list = this.byVideo.get(videoId) ?? [];
    list.push(event);
    this.byVideo.set(videoId, list);
    this.waiters.get(videoId)?.();
  }

  /** Shows the video's progress from its events until it is ready or failed; then reads its document once. */
  async follow(api: ApiClient, id: string, shown: FileDisplay): Promise<VideoView> {
    let seen = 0;
    // One read now covers a video that finished before the stream was listening for it (it cannot, as the
    // stream opened first, but a reconnect could drop events): after that only pushed events count.
    const initial = await api.json<VideoView>(`/v1/videos/${encodeURIComponent(id)}`);
    if (initial.status === 'ready' || initial.status === 'failed') return initial;
    for (;;) {
      const events = this.byVideo.get(id) ?? [];
      for (; seen < events.length; seen++) {
        const event = events[seen]!;
        if (event.type === 'video.progress') shown.transcoding(Number((event.data as { percent: number }).percent));
        if (event.type === 'video.processing') shown.transcoding(0);
        if (event.type === 'video.ready' || event.type === 'video.failed') {
          this.waiters.delete(id);
          return api.json<VideoView>(`/v1/videos/${encodeURIComponent(id)}`);
        }
      }
      await new Promise<void>((resolve) => this.waiters.set(id, resolve));
    }
  }
}
