import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_OPERATIONS } from '../api/app.ts';
import { openApiDocument } from '../api/openapi.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * GET /openapi.json from a real API instance (every feature on): a valid
 * OpenAPI 3.1 document (@readme/openapi-parser) in which every route hono
 * registered is documented. The document is built from `app.routes`, so a
 * route added without an entry in its module's operations table shows up in
 * `x-undocumented` and fails here instead of going missing.
 */
let stack: TestStack;
let doc: Record<string, any>;
beforeAll(async () => {
  stack = await startTestStack({ withWorker: false });
  const res = await fetch(`${stack.baseUrl}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Record<string, any>;
});
afterAll(async () => {
  await stack?.stop();
});

describe('OpenAPI', () => {
  it('every registered route is documented', () => {
    expect(doc['x-undocumented'] ?? [], 'routes registered in the app but missing from the operations tables').toEqual([]);
    const operations = Object.values(doc.paths as Record<string, object>).flatMap((p) => Object.keys(p));
    expect(operations.length).toBeGreaterThanOrEqual(25);
    for (const path of ['/v1/videos', '/v1/videos/{id}', '/v1/webhooks/{id}', '/v1/events', '/v1/channels/{channelId}/live'])
      expect(doc.paths).toHaveProperty([path]);
  });

  it('a route without documentation is reported, not silently left out', () => {
    const withNew = openApiDocument(
      [
        { method: 'GET', path: '/healthz' },
        { method: 'PUT', path: '/v1/things/:thingId' },
        { method: 'ALL', path: '*' },
      ],
      API_OPERATIONS,
      '0',
    );
    expect(withNew['x-undocumented']).toEqual(['PUT /v1/things/{thingId}']);
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
    expect(result.valid ? [] : compileErrors(result)).toEqual([]);
  });

  it('path parameters, the zod request bodies and the problem+json errors are in it', () => {
    const create = doc.paths['/v1/webhooks'].post;
    expect(create.requestBody.content['application/json'].schema).toMatchObject({
      type: 'object',
      properties: { url: expect.any(Object), events: expect.any(Object) },
    });
    expect(create.responses['400']).toEqual({ $ref: '#/components/responses/Problem400' });
    expect(doc.components.responses.Problem400.content['application/problem+json'].schema).toEqual({
      $ref: '#/components/schemas/Problem',
    });
    expect(doc.paths['/v1/videos/{id}/outputs/{name}'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['id', 'name']);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
  });

  it('GET /docs serves the reference page for it, without a key', async () => {
    const res = await fetch(`${stack.baseUrl}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain('/openapi.json');
  });
});
