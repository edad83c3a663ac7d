import { PermanentJobError } from './errors.ts';

/**
 * Every way a job can fail, named once (as tus-node-server's `ERRORS`): the machine-readable `code` a
 * failed video's `error.code` carries (and a dead-lettered job's `code` attribute), and the plain
 * sentence its `error.message` says, or a builder for it. Several entries may share a code: they are
 * the situations one code covers, each said in its own words. Thrown by name (`jobError('TOO_LONG', …)`),
 * never written as free text; never ffmpeg's stderr (that goes to the logs).
 */
export const JOB_ERRORS = {
  // The job message and its video.
  MALFORMED_JOB: { code: 'malformed_job', message: 'the job message is not a reelay transcode job' },
  BAD_VIDEO_ID: { code: 'malformed_job', message: 'the job names a video id that is not a ULID' },
  NO_STATUS: { code: 'unknown_video', message: (videoId: string) => `no status document for video ${videoId}` },
  NO_STATUS_AFTER_ATTEMPTS: {
    code: 'unknown_video',
    message: (attempts: number) => `no status document for this video after ${attempts} attempts`,
  },
  SOURCE_MISSING: {
    code: 'source_missing',
    message: ({ bucket, key }: { bucket: string; key: string }) => `the uploaded file s3://${bucket}/${key} no longer exists`,
  },
  /** The API stored the upload but could not queue its job: the message is SQS's answer. */
  ENQUEUE_FAILED: { code: 'enqueue_failed', message: (reason: string) => reason },

  // Retries: a transient failure is retried (`lastError`), and after the last attempt the video fails.
  RETRYING: { code: 'transient', message: (lastError: string) => lastError },
  ATTEMPTS_EXHAUSTED: { code: 'attempts_exhausted', message: (lastError: string) => lastError },
  GAVE_UP: { code: 'attempts_exhausted', message: (attempts: number) => `gave up after ${attempts} attempts` },
  /** Its worker process died this many times while on the job (no failure reported): past REELAY_MAX_STALLS. */
  STALLED: {
    code: 'interrupted',
    message: (stalls: number) =>
      `processing stopped ${stalls} times without finishing because the worker process ended each time; the file may be too large or too demanding for this server`,
  },

  // What the probe finds in the file.
  PROBE_TIMEOUT: { code: 'probe_timeout', message: 'the file could not be read in time; it is probably damaged' },
  UNREADABLE: { code: 'unreadable_input', message: 'the file could not be read as a video: it is damaged or not a media file' },
  NO_CONTAINER: { code: 'unreadable_input', message: 'the file could not be read as a video: no container format was found' },
  MOOV_MISSING: {
    code: 'truncated_input',
    message: 'the file is incomplete: its index (the MP4 moov box) is missing, as when an upload or a recording is cut off',
  },
  CUT_OFF: {
    code: 'truncated_input',
    message: ({ seconds, headerSeconds }: { seconds: number; headerSeconds: number }) =>
      `the file ends after ${seconds.toFixed(1)} s of the ${Math.round(headerSeconds)} s its header announces: the upload was cut off`,
  },
  FORMAT_REFUSED: {
    code: 'unsupported_format',
    message: (format: string) =>
      `the upload is ${format}, not a video file reelay accepts (one self-contained media file); it was not opened`,
  },
  FORMAT_NOT_ACCEPTED: { code: 'unsupported_format', message: (format: string) => `the container format ${format} is not accepted` },
  CODEC_REFUSED: {
    code: 'unsupported_codec',
    message: (codec: string) => `the file uses the ${codec} codec, which this server does not accept`,
  },
  CODEC_UNKNOWN: { code: 'unsupported_codec', message: (codec: string) => `the video is ${codec}, which this server cannot decode` },
  HEIF_PHOTO: { code: 'not_a_video', message: 'the upload is a HEIF/HEIC photo, not a video' },
  STILL_IMAGE: {
    code: 'not_a_video',
    message: (format: string) => `the upload is a still image (${format}), not a video; it was not opened`,
  },
  SINGLE_PICTURE: { code: 'not_a_video', message: (codec: string) => `the upload is a single ${codec} picture, not a video` },
  AUDIO_FILE: {
    code: 'no_video_stream',
    message: (format: string) => `the upload is an audio file (${format}) with no video; reelay makes video renditions only`,
  },
  NO_VIDEO_STREAM: {
    code: 'no_video_stream',
    message: ({ format, onlyAudio }: { format: string; onlyAudio: boolean }) =>
      `the upload (${format}) has ${onlyAudio ? 'only audio' : 'no video stream'}; reelay makes video renditions only`,
  },
  NO_FRAMES: { code: 'no_video_stream', message: (codec: string) => `the ${codec} video stream holds no frames` },
  NO_PICTURE_SIZE: { code: 'invalid_video', message: (codec: string) => `the ${codec} video stream has no valid picture size` },

  // The limits (REELAY_MAX_*), checked before any decoding.
  TOO_LARGE: {
    code: 'too_large',
    message: ({ width, height, limit }: { width: number; height: number; limit: number }) =>
      `the video is ${width}x${height} (${width * height} pixels); the limit is ${limit} pixels (REELAY_MAX_PIXELS)`,
  },
  TOO_LONG: {
    code: 'too_long',
    message: ({ seconds, limit }: { seconds: number; limit: number }) =>
      `the video lasts ${Math.round(seconds)}s; the limit is ${limit}s (REELAY_MAX_DURATION_SECONDS)`,
  },
  FRAME_RATE_TOO_HIGH: {
    code: 'frame_rate_too_high',
    message: ({ frameRate, limit }: { frameRate: number; limit: number }) =>
      `the video runs at ${Math.round(frameRate)} frames per second; the limit is ${limit} (REELAY_MAX_FRAME_RATE)`,
  },

  // What ffmpeg meets while decoding.
  NO_DECODER: { code: 'unsupported_codec', message: (codec: string) => `the video is ${codec} which this server cannot decode` },
  CUT_OFF_WHILE_DECODING: { code: 'truncated_input', message: 'the file is cut off before its video can be decoded' },
  UNDECODABLE: {
    code: 'undecodable_video',
    message: 'the video could not be decoded: its data is damaged or encoded in a way this server cannot read',
  },
  NOTHING_DECODED: { code: 'undecodable_video', message: 'no frame of the video could be decoded' },
} as const satisfies Record<string, { code: string; message: string | ((details: never) => string) }>;

export type JobErrorName = keyof typeof JOB_ERRORS;
/** Every code a failed video's `error.code` can carry. */
export type JobErrorCode = (typeof JOB_ERRORS)[JobErrorName]['code'];

/** What a builder needs: nothing for a fixed sentence, its one argument otherwise. */
type Details<N extends JobErrorName> = (typeof JOB_ERRORS)[N]['message'] extends (details: infer D) => string ? [details: D] : [];

/** A failure as the status document records it (`error`, `lastError`). */
export interface JobFailure {
  code: JobErrorCode;
  message: string;
}

export function jobFailure<N extends JobErrorName>(name: N, ...details: Details<N>): JobFailure {
  const { code, message } = JOB_ERRORS[name];
  return { code, message: typeof message === 'string' ? message : (message as (d: unknown) => string)(details[0]) };
}

/** The failure as a PermanentJobError to throw: the job fails now, without a retry. `cause` keeps what went wrong underneath. */
export function jobError<N extends JobErrorName>(name: N, ...details: Details<N>): PermanentJobError {
  const { code, message } = jobFailure(name, ...details);
  return new PermanentJobError(code, message);
}
