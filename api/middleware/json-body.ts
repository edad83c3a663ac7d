import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { HttpProblem } from '../../core/errors.ts';
import type { AppEnv } from '../app-env.ts';
import { badRequest } from './problem.ts';

/** JSON request bodies are small settings objects; anything larger is refused before it is read. */
export const MAX_JSON_BODY_BYTES = 16 * 1024;

/** Refuses (413) a JSON body over the limit, whether or not it declares its length. */
export function jsonBodyLimit(maxSize = MAX_JSON_BODY_BYTES): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new HttpProblem(413, 'Content Too Large', `the JSON body is larger than ${maxSize} bytes`);
    },
  });
}

/**
 * Reads and validates a JSON body against a (strict) zod schema; every
 * problem, unknown fields included, becomes one 400 naming the field. With
 * `optional`, an empty body stands for `{}`.
 */
export async function readJsonBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S, { optional = false } = {}): Promise<z.infer<S>> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() === '') {
    if (!optional) throw badRequest('the request needs a JSON body');
  } else {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      throw new HttpProblem(
        415,
        'Unsupported Media Type',
        `send the body as application/json; got ${JSON.stringify(type || 'no content-type')}`,
      );
    }
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw badRequest(`the body is not valid JSON: ${(err as Error).message}`);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const at = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      return `${at}${issue.message}`;
    });
    throw badRequest(`invalid body: ${problems.join('; ')}`);
  }
  return parsed.data;
}
