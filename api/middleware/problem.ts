import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HttpProblem } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { SecretKeyError } from '../../core/webhooks/secret-box.ts';
import type { AppEnv } from '../app-env.ts';

/** RFC 9457 problem details. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
}

export function problemResponse(
  c: Context<AppEnv>,
  status: number,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  const body: Problem = { type: 'about:blank', title, status, detail, instance: c.req.path };
  const requestId = c.get('requestId');
  if (requestId) body.requestId = requestId;
  return c.body(JSON.stringify(body), status as ContentfulStatusCode, { ...headers, 'content-type': 'application/problem+json' });
}

/** The one place that turns thrown errors into responses. */
export function errorHandler(logger: Logger) {
  return function onError(err: Error, c: Context<AppEnv>): Response {
    if (err instanceof HttpProblem) {
      if (err.status >= 500) logger.error({ err, requestId: c.get('requestId') }, err.message);
      return problemResponse(c, err.status, err.title, err.message, err.headers);
    }
    if (err instanceof SecretKeyError) {
      // A stored webhook secret this process cannot open: the operator's to fix, said as it is.
      logger.error({ err, requestId: c.get('requestId') }, err.message);
      return problemResponse(
        c,
        503,
        'Service Unavailable',
        `${err.message}: give every API and webhooks process the same REELAY_SECRETS_KEY`,
      );
    }
    if (err instanceof HTTPException) {
      return problemResponse(c, err.status, statusTitle(err.status), err.message || statusTitle(err.status));
    }
    logger.error({ err, requestId: c.get('requestId') }, 'unhandled error');
    return problemResponse(
      c,
      500,
      'Internal Server Error',
      'an unexpected error occurred; the server log has the details under this requestId',
    );
  };
}

export function notFoundHandler(c: Context<AppEnv>): Response {
  return problemResponse(c, 404, 'Not Found', `no route for ${c.req.method} ${c.req.path}`);
}

function statusTitle(status: number): string {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    404: 'Not Found',
    405: 'Method Not Allowed',
    408: 'Request Timeout',
    409: 'Conflict',
    413: 'Content Too Large',
    415: 'Unsupported Media Type',
    429: 'Too Many Requests',
    503: 'Service Unavailable',
  };
  return titles[status] ?? 'Error';
}

export const badRequest = (detail: string) => new HttpProblem(400, 'Bad Request', detail);
export const notFound = (detail: string) => new HttpProblem(404, 'Not Found', detail);
