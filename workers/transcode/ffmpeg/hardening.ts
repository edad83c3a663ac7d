/**
 * Uploads are hostile. ffmpeg happily follows an HLS playlist or a concat list
 * to local files or URLs, so every probe and transcode of an upload runs with:
 *  - only the `file` protocol (no http, tcp, data, subfile, …),
 *  - only container demuxers that cannot reference other files (no hls, concat,
 *    image2 sequences, dash, …); the mov demuxer's external references stay off.
 */
export const ALLOWED_DEMUXERS = ['mov', 'matroska', 'webm', 'avi', 'mpegts', 'flv', 'mpeg', 'ogg', 'asf'] as const;

export const INPUT_HARDENING: readonly string[] = [
  '-protocol_whitelist',
  'file',
  '-format_whitelist',
  ALLOWED_DEMUXERS.join(','),
];

/** The input as an explicit `file:` URL, so a name can never be read as another protocol. */
export function fileInput(absolutePath: string): string {
  return `file:${absolutePath}`;
}
