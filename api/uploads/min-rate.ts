import { Readable, Transform, type TransformCallback } from 'node:stream';
import { HttpProblem } from '../../core/errors.ts';

export interface MinRate {
  /** Bytes per second a request body must average over each window; 0 = no minimum. */
  bytesPerSecond: number;
  windowMs: number;
}

/**
 * Passes a request body through and fails it (408) when the client sends less
 * than `bytesPerSecond` on average over a window: the idle timeout only
 * catches a client that sends nothing, not one that sends a byte every few
 * seconds to hold a connection and an S3 multipart upload open for ever.
 * A window in which bytes wait in reelay's own buffers (S3 slower than the
 * client: backpressure) is not held against the client.
 */
export class MinRateGuard extends Transform {
  private bytes = 0;
  private atLastCheck = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly source: Readable;

  constructor(source: Readable, { bytesPerSecond, windowMs }: MinRate) {
    super();
    this.source = source;
    const minBytes = (bytesPerSecond * windowMs) / 1000;
    this.timer = setInterval(() => {
      const received = this.bytes - this.atLastCheck;
      this.atLastCheck = this.bytes;
      const waitingOnUs = this.writableLength > 0 || this.readableLength > 0 || this.source.readableLength > 0;
      if (received < minBytes && !waitingOnUs) {
        this.destroy(
          new HttpProblem(
            408,
            'Request Timeout',
            `the upload arrived slower than ${bytesPerSecond} bytes/s over ${windowMs / 1000} s (REELAY_UPLOAD_MIN_BYTES_PER_SECOND); it was stopped and nothing was kept`,
            { headers: { connection: 'close' } },
          ),
        );
      }
    }, windowMs).unref();
    source.on('error', (err) => this.destroy(err));
    source.pipe(this);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    clearInterval(this.timer);
    done();
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    clearInterval(this.timer);
    this.source.destroy();
    done(err);
  }
}

/** `body` itself when there is no minimum rate, else `body` behind a MinRateGuard. */
export function withMinRate(body: Readable, rate: MinRate | undefined): Readable {
  return rate && rate.bytesPerSecond > 0 ? new MinRateGuard(body, rate) : body;
}
