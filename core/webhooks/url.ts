import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** A webhook URL that may not be used; the message says why, for a 400 or a failed delivery. */
export class WebhookUrlError extends Error {
  override name = 'WebhookUrlError';
}

const MAX_URL_LENGTH = 2048;

/** Resolves a host name to every address it has (the system resolver, as connections use it). */
export type ResolveAll = (hostname: string) => Promise<LookupAddress[]>;

export const resolveAll: ResolveAll = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );

/**
 * True for a public unicast address. Loopback, private (RFC 1918, unique
 * local), link-local (the cloud metadata service lives there), carrier-grade
 * NAT, unspecified, multicast, reserved and documentation ranges, and IPv6
 * forms that embed an IPv4 address (NAT64, 6to4, Teredo, IPv4-compatible
 * `::/96`, ISATAP around a non-public IPv4) are not; an IPv4-mapped IPv6
 * address is judged as the IPv4 address it is.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  if (parsed.range() !== 'unicast') return false;
  return parsed.kind() === 'ipv4' || !embedsIPv4((parsed as ipaddr.IPv6).parts);
}

/**
 * IPv6 forms that ipaddr.js calls plain unicast but that carry an IPv4 address
 * in their low 32 bits: the deprecated IPv4-compatible `::/96` (`::127.0.0.1`,
 * `::a9fe:a9fe` = 169.254.169.254; some stacks still route them to the IPv4
 * host) is refused outright, an ISATAP interface id (`…:0:5efe:a.b.c.d`,
 * `…:200:5efe:a.b.c.d`) when the IPv4 it embeds is not public.
 */
function embedsIPv4(parts: number[]): boolean {
  if (parts.slice(0, 6).every((p) => p === 0)) return true;
  if ((parts[4] === 0 || parts[4] === 0x200) && parts[5] === 0x5efe) {
    const v4 = [parts[6]! >> 8, parts[6]! & 0xff, parts[7]! >> 8, parts[7]! & 0xff].join('.');
    return !isPublicAddress(v4);
  }
  return false;
}

/** The host of a URL as a resolver or `isIP` wants it (no IPv6 brackets). */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Syntax only: an absolute http(s) URL of sane length. */
export function parseWebhookUrl(text: string): URL {
  if (text.length > MAX_URL_LENGTH) throw new WebhookUrlError(`the URL is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookUrlError(`${JSON.stringify(text.slice(0, 100))} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookUrlError(`only http and https URLs can receive webhooks; got ${url.protocol.replace(/:$/, '')}`);
  }
  if (!url.hostname) throw new WebhookUrlError('the URL has no host');
  if (url.username || url.password) {
    // They would be stored and shown in plain text, and sent on every delivery.
    throw new WebhookUrlError(
      'the URL carries credentials (user:password@): they are not stored; authenticate deliveries by their webhook-signature (Standard Webhooks) instead',
    );
  }
  return url;
}

/**
 * Checks a webhook URL before it is registered: http(s) only, and unless
 * `allowPrivate`, every address its host resolves to must be public (one
 * private address is enough to refuse it: the connection may pick any).
 */
export async function checkWebhookUrl(
  text: string,
  { allowPrivate, resolve = resolveAll }: { allowPrivate: boolean; resolve?: ResolveAll },
): Promise<URL> {
  const url = parseWebhookUrl(text);
  if (allowPrivate) return url;
  const host = bareHost(url);
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await resolve(host)).map((a) => a.address);
    } catch (err) {
      throw new WebhookUrlError(
        `the host ${host} could not be resolved (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
    if (addresses.length === 0) throw new WebhookUrlError(`the host ${host} has no address`);
  }
  refusePrivate(host, addresses);
  return url;
}

function refusePrivate(host: string, addresses: string[]): void {
  const refused = addresses.filter((address) => !isPublicAddress(address));
  if (refused.length > 0) {
    throw new WebhookUrlError(
      `${host} resolves to a loopback, private, link-local or otherwise non-public address (${refused.join(', ')}); ` +
        'set REELAY_WEBHOOK_ALLOW_PRIVATE=true to allow such endpoints (local development only)',
    );
  }
}

/**
 * For the delivery itself: the IP literal is checked here and host names in
 * the connection's own DNS lookup (`lookupFor`), so a name that resolved to a
 * public address at registration and to a private one now (DNS rebinding) is
 * refused at connect time.
 */
export function checkDeliveryHost(url: URL, allowPrivate: boolean): void {
  const host = bareHost(url);
  if (!allowPrivate && isIP(host)) refusePrivate(host, [host]);
}

/** A `lookup` for http.request that refuses non-public addresses unless `allowPrivate`. */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return function webhookLookup(hostname, options, callback) {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      try {
        if (!allowPrivate)
          refusePrivate(
            hostname,
            addresses.map((a) => a.address),
          );
      } catch (refusal) {
        return callback(Object.assign(refusal as Error, { code: 'EWEBHOOKPRIVATE' }), '', 0);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}
