import type { VideoStatus } from '../../core/video-status.ts';

/**
 * The public JSON of a video: the status document without its internal bookkeeping (`announced`, which
 * only workers read), with a download URL on every output.
 */
export function videoView(doc: VideoStatus) {
  const { announced: _announced, playableAnnounced: _playableAnnounced, ...shown } = doc;
  const outputs = Object.fromEntries(
    Object.entries(doc.outputs).map(([name, o]) => [name, { ...o, url: `/v1/videos/${doc.id}/outputs/${name}` }]),
  );
  const base = `/v1/videos/${doc.id}`;
  const playback = {
    ...(doc.hls ? { hls: { ...doc.hls, url: `${base}/hls/${doc.hls.master}` } } : {}),
    ...(doc.storyboard
      ? {
          storyboard: {
            ...doc.storyboard,
            url: `${base}/storyboard/${doc.storyboard.vtt}`,
            spriteUrl: `${base}/storyboard/${doc.storyboard.sprite}`,
          },
        }
      : {}),
    ...(doc.captions ? { captions: doc.captions.map((t) => ({ ...t, url: `${base}/hls/subs/${t.id}.vtt` })) } : {}),
  };
  return { ...shown, outputs, ...playback, links: { self: base } };
}
