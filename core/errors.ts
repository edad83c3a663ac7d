import type { JobErrorCode } from './job-errors.ts';

/**
 * The error hierarchy. Every error has a fixed `name` and may carry a `cause`.
 * Workers split failures into permanent (bad input: fail now, never retry) and
 * transient (retry with backoff, then dead-letter). The API maps HttpProblem to
 * RFC 9457 problem+json in one place (api/problem.ts).
 */
export class ReelayError extends Error {
  override name = 'ReelayError';
}

/** A configuration variable is missing or malformed; start-up stops. */
export class ConfigError extends ReelayError {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/**
 * The job can never succeed as given (unreadable or hostile input). Not retried. Made by name from the
 * table of job errors (`jobError` in core/job-errors.ts), not with free text.
 */
export class PermanentJobError extends ReelayError {
  override name = 'PermanentJobError';
  /** Machine-readable reason, e.g. `unreadable_input`, `unsupported_format`. */
  readonly code: JobErrorCode;
  constructor(code: JobErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** Keeps what went wrong underneath (ffprobe's failure, S3's answer) for the logs. */
  causedBy(cause: unknown): this {
    this.cause = cause;
    return this;
  }
}

/** The job may succeed later (S3/SNS hiccup, killed ffmpeg). Retried, then dead-lettered. */
export class TransientJobError extends ReelayError {
  override name = 'TransientJobError';
}

/** An HTTP-facing error: becomes application/problem+json with this status. */
export class HttpProblem extends ReelayError {
  override name = 'HttpProblem';
  readonly status: number;
  readonly title: string;
  readonly headers: Record<string, string>;
  constructor(status: number, title: string, detail: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(detail, options);
    this.status = status;
    this.title = title;
    this.headers = options?.headers ?? {};
  }
}

/** Short human-readable description of any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
