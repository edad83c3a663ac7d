/**
 * Uploads are hostile. ffmpeg happily follows an HLS playlist or a concat list
 * to local files or URLs, so every probe and transcode of an upload runs with:
 *  - only the `file` protocol (no http, tcp, data, subfile, …),
 *  - only demuxers that read one self-contained media file. Refused (absent
 *    here): playlists and manifests (hls, dash), concat lists, anything that
 *    opens another file or the network (image2 sequences, tee, sdp, rtsp, …),
 *    single images (`*_pipe`, image2) and text renderers (tty, subtitles);
 *    the mov demuxer's external references stay off (its default),
 *  - only the decoders reelay accepts (`-codec_whitelist`), so a parser bug in
 *    an obscure decoder is not reachable from an upload.
 */
export const ALLOWED_DEMUXERS = [
  // Containers of phones, cameras, editors and the web.
  'mov', 'matroska', 'webm', 'avi', 'mpegts', 'flv', 'mpeg', 'ogg', 'asf', 'mxf', 'gxf', 'nut', 'dv', 'wtv', 'rm',
  // Animations and elementary video streams (a lone GIF frame is refused later as a still).
  'gif', 'apng', 'h264', 'hevc', 'm4v', 'mpegvideo', 'h263', 'h261', 'vc1', 'ivf', 'obu', 'cavsvideo', 'yuv4mpegpipe',
  // Audio files: opened only so that the failure says "no video stream" rather than "unknown format".
  'mp3', 'wav', 'w64', 'flac', 'aac', 'ac3', 'eac3', 'amr', 'aiff', 'caf', 'wv', 'ape', 'tta', 'au',
] as const;

/** Demuxers of audio-only files: refusing one is a `no_video_stream`, not an unknown format. */
export const AUDIO_DEMUXERS: ReadonlySet<string> = new Set(['mp3', 'wav', 'w64', 'flac', 'aac', 'ac3', 'eac3', 'amr', 'aiff', 'caf', 'wv', 'ape', 'tta', 'au']);

/**
 * Decoder names (not codec names: `flv` decodes Sorenson Spark, `mp3float` MP3) that an
 * upload may reach. Video of phones, cameras, editors and the last 25 years of the web,
 * the audio that goes with it, and subtitle decoders (ffprobe opens every stream's decoder;
 * subtitles are never mapped to an output). Missing from the list = `unsupported_codec`.
 */
export const ACCEPTED_DECODERS = [
  // video
  'h264', 'hevc', 'vp8', 'vp9', 'libvpx', 'libvpx-vp9', 'av1', 'libdav1d', 'libaom-av1', 'mpeg1video', 'mpeg2video', 'mpeg4',
  'msmpeg4v1', 'msmpeg4v2', 'msmpeg4', 'wmv1', 'wmv2', 'wmv3', 'vc1', 'h263', 'h263p', 'h263i', 'h261', 'flv', 'vp6', 'vp6f',
  'vp6a', 'vp3', 'theora', 'mjpeg', 'mjpegb', 'prores', 'dnxhd', 'dvvideo', 'rv10', 'rv20', 'rv30', 'rv40', 'gif', 'apng', 'png',
  'cfhd', 'ffv1', 'huffyuv', 'ffvhuff', 'utvideo', 'rawvideo', 'svq1', 'svq3', 'cinepak', 'qtrle', 'indeo3', 'indeo5', 'cavs', 'hap',
  // audio
  'aac', 'aac_fixed', 'aac_latm', 'mp3', 'mp3float', 'mp2', 'mp2float', 'mp1', 'mp1float', 'ac3', 'ac3_fixed', 'eac3', 'dca',
  'truehd', 'mlp', 'opus', 'libopus', 'vorbis', 'libvorbis', 'flac', 'alac', 'amrnb', 'amrwb', 'libopencore_amrnb',
  'libopencore_amrwb', 'wmav1', 'wmav2', 'wmapro', 'wmalossless', 'wmavoice', 'cook', 'sipr', 'ralf', 'ra_144', 'ra_288',
  'atrac3', 'speex', 'libspeex', 'gsm', 'gsm_ms', 'qdm2', 'qdmc', 'nellymoser', 'g722', 'g723_1', 'g729', 'wavpack', 'ape', 'tta',
  'adpcm_ima_qt', 'adpcm_ima_wav', 'adpcm_ms', 'adpcm_swf', 'adpcm_g726', 'adpcm_yamaha',
  'pcm_s16le', 'pcm_s16be', 'pcm_s16le_planar', 'pcm_s24le', 'pcm_s24be', 'pcm_s32le', 'pcm_s32be', 'pcm_f32le', 'pcm_f32be',
  'pcm_f64le', 'pcm_f64be', 'pcm_u8', 'pcm_s8', 'pcm_alaw', 'pcm_mulaw', 'pcm_dvd', 'pcm_bluray', 'pcm_s24daud',
  // subtitles (probed, never decoded into an output)
  'mov_text', 'subrip', 'srt', 'ass', 'ssa', 'webvtt', 'text', 'dvdsub', 'dvbsub', 'pgssub', 'cc_dec', 'microdvd', 'sami',
] as const;

export const INPUT_HARDENING: readonly string[] = [
  '-protocol_whitelist',
  'file',
  '-format_whitelist',
  ALLOWED_DEMUXERS.join(','),
  '-codec_whitelist',
  ACCEPTED_DECODERS.join(','),
];

/** The input as an explicit `file:` URL, so a name can never be read as another protocol. */
export function fileInput(absolutePath: string): string {
  return `file:${absolutePath}`;
}
