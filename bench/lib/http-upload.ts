import { request } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface UploadResponse {
  status: number;
  body: unknown;
  /** From the first byte sent until the response was read, ms. */
  ms: number;
}

/**
 * POSTs a raw body to reelay's `POST /v1/videos`, authenticated with `apiKey`, as it is read from `body`
 * (backpressure from the socket paces the source, nothing is buffered whole),
 * with an explicit Content-Length. Resolves with the parsed JSON answer.
 */
export async function postVideo(
  apiUrl: string,
  body: Readable,
  {
    bytes,
    apiKey,
    contentType = 'application/octet-stream',
    signal,
  }: { bytes: number; apiKey: string; contentType?: string; signal?: AbortSignal },
): Promise<UploadResponse> {
  const started = performance.now();
  const req = request(new URL('/v1/videos', apiUrl), {
    method: 'POST',
    headers: { 'content-type': contentType, 'content-length': String(bytes), authorization: `Bearer ${apiKey}` },
    ...(signal ? { signal } : {}),
  });
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.once('error', reject);
    });
    req.once('error', reject);
  });
  // An early answer (e.g. 413) ends the request while the body is still being sent: the answer wins.
  const sent = pipeline(body, req).catch((err: unknown) => err);
  const { status, text } = await response;
  const sendError = await sent;
  if (status < 400 && sendError instanceof Error) throw sendError;
  return { status, body: parseJson(text), ms: performance.now() - started };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
