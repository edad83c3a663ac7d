import http from 'node:http';
import https from 'node:https';
import { checkDeliveryHost, guardedLookup, WebhookUrlError } from './url.ts';

export interface PostResult {
  ok: boolean;
  /** The HTTP status, when the endpoint answered. */
  status?: number;
  /** What happened, for logs and the webhook's `lastFailure`. */
  reason: string;
  ms: number;
}

export interface PostOptions {
  /** Whole request, response headers included, ms. */
  timeoutMs: number;
  /** Allow loopback and private addresses (REELAY_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
}

/**
 * POSTs one webhook and says how it went; never throws. Any 2xx is success;
 * redirects are not followed (they count as failures, as with other webhook
 * senders). The host is resolved by the connection itself through a lookup that
 * refuses non-public addresses, so a DNS answer that changed since
 * registration cannot point a delivery at an internal service.
 */
export function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  { timeoutMs, allowPrivate }: PostOptions,
): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let target: URL;
  try {
    target = new URL(url);
    checkDeliveryHost(target, allowPrivate);
  } catch (err) {
    return Promise.resolve({ ok: false, reason: (err as Error).message, ms: elapsed() });
  }
  const signal = AbortSignal.timeout(timeoutMs);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<PostResult>((resolve) => {
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'reelay-webhooks/1',
        },
        lookup: guardedLookup(allowPrivate),
        signal,
        agent: false,
      },
      (response) => {
        const status = response.statusCode ?? 0;
        // The status is all we need; the body is not read.
        response.destroy();
        const ok = status >= 200 && status < 300;
        resolve({ ok, status, reason: ok ? `HTTP ${status}` : `the endpoint answered HTTP ${status}`, ms: elapsed() });
      },
    );
    request.on('error', (err: NodeJS.ErrnoException) => {
      const reason = signal.aborted
        ? `no response within ${timeoutMs} ms`
        : err instanceof WebhookUrlError || err.code === 'EWEBHOOKPRIVATE'
          ? err.message
          : `request failed: ${err.code ?? err.message}`;
      resolve({ ok: false, reason, ms: elapsed() });
    });
    request.end(body);
  });
}
