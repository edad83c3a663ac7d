import type { VideoStatus } from '../core/video-status.ts';

/** The public JSON of a video: the status document, with a download URL on every output. */
export function videoView(doc: VideoStatus) {
  const outputs = Object.fromEntries(
    Object.entries(doc.outputs).map(([name, o]) => [name, { ...o, url: `/v1/videos/${doc.id}/outputs/${name}` }]),
  );
  return { ...doc, outputs, links: { self: `/v1/videos/${doc.id}` } };
}
