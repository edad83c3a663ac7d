import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The OpenAPI 3.1 description of the HTTP API (`GET /openapi.json`, rendered
 * at `GET /docs`). Each route module describes its own routes in a table of
 * `OperationDoc`s beside them; request bodies are the zod schemas the routes
 * validate with (converted by zod's own JSON Schema output); every operation
 * lists its success status and its problem+json errors.
 * `openApiDocument(app.routes, operations)` takes the routes hono actually
 * registered: one without an entry in the tables is listed under
 * `x-undocumented`, which the test requires to be empty.
 */
export interface OperationDoc {
  summary: string;
  tag: string;
  success: [status: number, description: string, contentType?: string];
  errors: number[];
  body?: { schema: z.ZodType } | { contentType: string; description: string };
  query?: Record<string, string>;
  public?: true;
}

/** Operations by `METHOD /path` (OpenAPI's `{param}` form), e.g. `'GET /v1/videos/{id}'`. */
export type OperationDocs = Record<string, OperationDoc>;

/** The version in package.json: the API's. */
export const API_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  411: 'Length Required',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** hono's `/v1/videos/:id` as OpenAPI's `/v1/videos/{id}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:(\w+)/g, '{$1}');
}

/** The document for the routes an app registered (`app.routes`); middleware (method ALL) is not an operation. */
export function openApiDocument(
  routes: readonly { method: string; path: string }[],
  operations: OperationDocs,
  version: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const undocumented: string[] = [];
  const seen = new Set<string>();
  for (const { method, path } of routes) {
    if (method === 'ALL') continue;
    const key = `${method} ${openApiPath(path)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const op = Object.hasOwn(operations, key) ? operations[key] : undefined;
    if (!op) {
      undocumented.push(key);
      continue;
    }
    const parameters = [
      ...[...openApiPath(path).matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
      ...Object.entries(op.query ?? {}).map(([name, description]) => ({
        name,
        in: 'query',
        required: false,
        description,
        schema: { type: 'string' },
      })),
    ];
    const [status, description, contentType = 'application/json'] = op.success;
    const responses: Record<string, unknown> = {
      [String(status)]: {
        description,
        ...(status === 204 || status === 302 || status === 101 ? {} : { content: { [contentType]: { schema: {} } } }),
      },
    };
    for (const code of op.errors) responses[String(code)] = { $ref: `#/components/responses/Problem${code}` };
    (paths[openApiPath(path)] ??= {})[method.toLowerCase()] = {
      operationId: `${method.toLowerCase()}${openApiPath(path)
        .replace(/[{}]/g, '')
        .replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())
        .replace(/[^\w]/g, '')}`,
      summary: op.summary,
      tags: [op.tag],
      ...(op.public ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content:
                'schema' in op.body
                  ? {
                      'application/json': {
                        schema: z.toJSONSchema(op.body.schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }),
                      },
                    }
                  : { [op.body.contentType]: { schema: {} } },
              ...('description' in op.body ? { description: op.body.description } : {}),
            },
          }
        : {}),
      responses,
    };
  }
  const codes = [...new Set(Object.values(operations).flatMap((o) => o.errors))].sort();
  return {
    openapi: '3.1.0',
    info: { title: 'reelay', version, description: 'Video upload and transcoding pipeline. Errors are RFC 9457 problem+json.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: ['videos', 'uploads', 'tokens', 'live', 'webhooks', 'events', 'operations'].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API key (REELAY_API_KEYS) or a token from POST /v1/tokens' },
      },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            instance: { type: 'string' },
          },
        },
      },
      responses: Object.fromEntries(
        codes.map((code) => [
          `Problem${code}`,
          {
            description: STATUS_TEXT[code] ?? String(code),
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          },
        ]),
      ),
    },
    ...(undocumented.length ? { 'x-undocumented': undocumented } : {}),
  };
}
