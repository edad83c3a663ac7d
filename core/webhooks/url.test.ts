import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { checkDeliveryHost, checkWebhookUrl, isPublicAddress, WebhookUrlError } from './url.ts';

/** A resolver that answers from a table instead of DNS. */
const resolver =
  (table: Record<string, string[]>) =>
  async (host: string): Promise<LookupAddress[]> => {
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

const resolve = resolver({
  'hooks.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'internal.example.com': ['10.1.2.3'],
  'mixed.example.com': ['93.184.215.14', '192.168.1.10'],
  'metadata.example.com': ['169.254.169.254'],
  localhost: ['127.0.0.1', '::1'],
});

const refused = async (url: string) => {
  await expect(checkWebhookUrl(url, { allowPrivate: false, resolve })).rejects.toBeInstanceOf(WebhookUrlError);
};

describe('webhook URL validation', () => {
  it('accepts http and https URLs whose host resolves only to public addresses', async () => {
    expect((await checkWebhookUrl('https://hooks.example.com/reelay?x=1', { allowPrivate: false, resolve })).href).toBe(
      'https://hooks.example.com/reelay?x=1',
    );
    expect((await checkWebhookUrl('http://93.184.215.14:8080/in', { allowPrivate: false, resolve })).port).toBe('8080');
  });

  it('refuses other schemes and what is not a URL', async () => {
    for (const url of [
      'ftp://hooks.example.com/x',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'gopher://hooks.example.com',
      'not a url',
      '/relative',
    ]) {
      await refused(url);
    }
    await expect(checkWebhookUrl('ftp://hooks.example.com/x', { allowPrivate: true, resolve })).rejects.toThrow(/only http and https/);
    await refused(`https://hooks.example.com/${'a'.repeat(2100)}`);
  });

  it('refuses loopback, private, link-local and other non-public addresses, literal or resolved', async () => {
    for (const url of [
      'http://127.0.0.1/x',
      'http://127.9.9.9/x',
      'http://localhost:3000/x',
      'http://[::1]/x',
      'http://10.0.0.1/x',
      'http://172.16.5.4/x',
      'http://192.168.0.1/x',
      'http://169.254.169.254/latest/meta-data',
      'http://[fe80::1]/x',
      'http://[fd00::1]/x',
      'http://100.64.0.1/x',
      'http://0.0.0.0/x',
      'http://[::ffff:127.0.0.1]/x',
      'http://[::ffff:a00:1]/x',
      'http://224.0.0.1/x',
      'http://[::127.0.0.1]:9/',
      'http://[::a9fe:a9fe]/x',
      'http://[2606:4700::5efe:a00:1]/x',
      'http://internal.example.com/x',
      'http://metadata.example.com/x',
    ]) {
      await refused(url);
    }
  });

  it('refuses credentials embedded in the URL', async () => {
    await expect(checkWebhookUrl('https://user:pass@hooks.example.com/x', { allowPrivate: true, resolve })).rejects.toThrow(/credentials/);
    await expect(checkWebhookUrl('https://token@hooks.example.com/x', { allowPrivate: false, resolve })).rejects.toThrow(/credentials/);
  });

  it('refuses a host when any one of its addresses is private', async () => {
    await expect(checkWebhookUrl('https://mixed.example.com/x', { allowPrivate: false, resolve })).rejects.toThrow(/192\.168\.1\.10/);
  });

  it('refuses a host that does not resolve, saying so', async () => {
    await expect(checkWebhookUrl('https://nowhere.example.com/x', { allowPrivate: false, resolve })).rejects.toThrow(
      /could not be resolved \(ENOTFOUND\)/,
    );
  });

  it('allows private and loopback endpoints when REELAY_WEBHOOK_ALLOW_PRIVATE is set', async () => {
    expect((await checkWebhookUrl('http://127.0.0.1:9999/hook', { allowPrivate: true, resolve })).host).toBe('127.0.0.1:9999');
    expect((await checkWebhookUrl('http://internal.example.com/x', { allowPrivate: true, resolve })).hostname).toBe('internal.example.com');
  });

  it('classifies addresses', () => {
    expect(isPublicAddress('8.8.8.8')).toBe(true);
    expect(isPublicAddress('2001:4860:4860::8888')).toBe(true);
    // ISATAP around a public IPv4 is public; ::/96 never is (deprecated, and some stacks route it to the IPv4).
    expect(isPublicAddress('2606:4700::5efe:808:808')).toBe(true);
    for (const address of ['::7f00:1', '::a9fe:a9fe', '::808:808', '2606:4700::200:5efe:c0a8:101']) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '::1',
      'fe80::1',
      '::ffff:192.168.1.1',
      '64:ff9b::a00:1',
      '2002:a00:1::1',
      '192.0.2.1',
      'nonsense',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it('checks an IP literal again at delivery time', () => {
    expect(() => checkDeliveryHost(new URL('http://[::1]:80/x'), false)).toThrow(WebhookUrlError);
    expect(() => checkDeliveryHost(new URL('http://[::1]:80/x'), true)).not.toThrow();
    expect(() => checkDeliveryHost(new URL('https://hooks.example.com/x'), false)).not.toThrow();
  });
});
