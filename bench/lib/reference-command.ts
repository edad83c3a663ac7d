/**
 * The hand-written one-pass ffmpeg command a user would type to make what
 * reelay makes: decode once, `split` to a 360p and a 720p H.264 (x264
 * `veryfast`, CRF 24 / 23, AAC 96k / 128k, `+faststart`) and a thumbnail
 * chosen by `thumbnail=50`. Written out here on purpose, not derived from
 * reelay's own argv (workers/transcode/ffmpeg/command.ts): it is the yardstick
 * reelay is held to, so reelay's choices (VBV caps, `-threads`, niceness,
 * the thumbnail's seek) are part of what is measured against it. Landscape
 * sources only (the bench's clips are 16:9).
 */
export function referenceArgv(input: string, outDir: string): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-loglevel',
    'error',
    '-i',
    input,
    '-filter_complex',
    '[0:v]split=3[a][b][c];[a]scale=-2:360[v360];[b]scale=-2:720[v720];[c]thumbnail=50,scale=640:-2[th]',
    '-map',
    '[v360]',
    '-map',
    '0:a',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '24',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
    '-movflags',
    '+faststart',
    `${outDir}/360p.mp4`,
    '-map',
    '[v720]',
    '-map',
    '0:a',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '23',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-movflags',
    '+faststart',
    `${outDir}/720p.mp4`,
    '-map',
    '[th]',
    '-frames:v',
    '1',
    '-update',
    '1',
    `${outDir}/thumbnail.jpg`,
  ];
}
