import { Readable, Transform, type TransformCallback } from 'node:stream';
import busboy from 'busboy';
import { cleanFilename } from '../../core/client-text.ts';
import { HttpProblem } from '../../core/errors.ts';
import { mediaType } from './media-type.ts';
import { withMinRate, type MinRate } from './min-rate.ts';

export interface FileInfo {
  filename?: string;
  contentType: string;
}

export interface ReceivedUpload<T> {
  result: T;
  /** Form fields (multipart only), e.g. `title`, `priority`. */
  fields: Record<string, string>;
}

/** Form fields are short: a title or a priority. */
const MAX_FIELD_BYTES = 4096;

export const tooLarge = (maxBytes: number) =>
  new HttpProblem(413, 'Content Too Large', `the upload is larger than the limit of ${maxBytes} bytes (REELAY_MAX_UPLOAD_BYTES)`, {
    headers: { connection: 'close' },
  });

/** Passes bytes through, counting them, and fails the stream once more than `maxBytes` went by. */
export class ByteLimiter extends Transform {
  bytes = 0;
  private readonly maxBytes: number;
  constructor(maxBytes: number) {
    super();
    this.maxBytes = maxBytes;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) done(tooLarge(this.maxBytes));
    else done(null, chunk);
  }
}

function limited(source: Readable, maxBytes: number): ByteLimiter {
  const limiter = new ByteLimiter(maxBytes);
  source.on('error', (err) => limiter.destroy(err));
  limiter.on('error', () => source.destroy());
  source.pipe(limiter);
  return limiter;
}

/**
 * Streams the uploaded file of a request into `onFile` without buffering it:
 * a `multipart/form-data` body (field `file`, parsed by busboy as it arrives)
 * or a raw body. `onFile` must consume the stream; its result is returned with
 * the form fields once the whole request has been read.
 */
export async function receiveUpload<T>(
  request: Request,
  {
    maxBytes,
    minRate,
    onFile,
    discard,
  }: {
    maxBytes: number;
    /** The slowest a client may send (408 below it); undefined or 0 bytes/s: no minimum. */
    minRate?: MinRate;
    onFile: (file: ByteLimiter, info: FileInfo) => Promise<T>;
    /** Undoes `onFile`'s result when the request fails after the file was stored (e.g. the form never ends). */
    discard: (result: T) => Promise<void>;
  },
): Promise<ReceivedUpload<T>> {
  const contentType = request.headers.get('content-type') ?? '';
  if (!request.body)
    throw new HttpProblem(400, 'Bad Request', 'the request has no body: send the video as multipart field `file` or as the raw body');
  const body = withMinRate(Readable.fromWeb(request.body as import('node:stream/web').ReadableStream), minRate);

  if (!/^multipart\/form-data/i.test(contentType)) {
    return {
      result: await onFile(limited(body, maxBytes), { contentType: mediaType(contentType) ?? 'application/octet-stream' }),
      fields: {},
    };
  }

  return new Promise<ReceivedUpload<T>>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        // Browsers send file names as raw UTF-8 (busboy's default would read them as Latin-1).
        defParamCharset: 'utf8',
        limits: { fields: 20, fieldSize: MAX_FIELD_BYTES, files: 1, parts: 30, fieldNameSize: 100 },
      });
    } catch (err) {
      reject(new HttpProblem(400, 'Bad Request', `malformed multipart request: ${(err as Error).message}`));
      return;
    }
    const fields: Record<string, string> = {};
    let filePromise: Promise<T> | undefined;
    let file: ByteLimiter | undefined;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      const problem =
        err instanceof HttpProblem ? err : new HttpProblem(400, 'Bad Request', `malformed multipart request: ${(err as Error).message}`);
      body.unpipe(parser);
      body.destroy();
      // The file stream must fail too: otherwise the S3 upload reading it waits forever and is never aborted.
      file?.destroy(problem);
      // Answer once the upload has let go of what it stored: its multipart upload aborted, or the file,
      // complete before the rest of the form failed, deleted.
      const released = filePromise ? filePromise.then(discard, () => undefined) : Promise.resolve();
      void released.catch(() => undefined).then(() => reject(problem));
    };

    parser.on('field', (name, value, info) => {
      if (info.valueTruncated)
        return fail(new HttpProblem(400, 'Bad Request', `form field \`${name}\` is longer than ${MAX_FIELD_BYTES} bytes`));
      fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || filePromise) {
        stream.resume(); // not ours: drain it
        return;
      }
      file = limited(stream, maxBytes);
      const fileInfo: FileInfo = { contentType: mediaType(info.mimeType) ?? 'application/octet-stream' };
      // The name is the client's text like any other: cleaned (never a reason to refuse) and cut to length.
      const filename = info.filename ? cleanFilename(info.filename) : undefined;
      if (filename) fileInfo.filename = filename;
      filePromise = onFile(file, fileInfo);
      filePromise.catch(fail);
    });
    parser.on('error', fail);
    parser.on('close', () => {
      if (failed) return;
      if (!filePromise) return fail(new HttpProblem(400, 'Bad Request', 'the multipart body has no `file` field'));
      filePromise.then((result) => resolve({ result, fields }), fail);
    });
    body.on('error', fail);
    body.pipe(parser);
  });
}
