import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSecretsKey, SecretBox, SecretKeyError } from './secret-box.ts';

describe('SecretBox (AES-256-GCM)', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it('seals to a value that does not contain the secret and opens back, a fresh IV each time', () => {
    const sealed = box.seal('whsec_abc', 'wh_1');
    expect(sealed).toMatch(/^enc:v1:/);
    expect(sealed).not.toContain('abc');
    expect(box.seal('whsec_abc', 'wh_1')).not.toBe(sealed);
    expect(box.open(sealed, 'wh_1')).toBe('whsec_abc');
  });

  it('refuses another owner, another key, an altered value, and a missing key', () => {
    const sealed = box.seal('whsec_abc', 'wh_1');
    expect(() => box.open(sealed, 'wh_2')).toThrow(SecretKeyError);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'wh_1')).toThrow(/another key/);
    const altered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
    expect(() => box.open(altered, 'wh_1')).toThrow(SecretKeyError);
    expect(() => new SecretBox(undefined).open(sealed, 'wh_1')).toThrow(/REELAY_SECRETS_KEY is not set/);
  });

  it('keeps values as they are without a key, and opens a plain (pre-encryption) value as itself', () => {
    expect(new SecretBox(undefined).seal('whsec_abc', 'wh_1')).toBe('whsec_abc');
    expect(box.open('whsec_plain', 'wh_1')).toBe('whsec_plain');
  });

  it('sealIfPlain: a sealed value stays as it is (no key needed), a plain one is sealed when there is a key', () => {
    const sealed = box.seal('whsec_abc', 'wh_1');
    expect(new SecretBox(undefined).sealIfPlain(sealed, 'wh_1')).toBe(sealed);
    expect(box.sealIfPlain(sealed, 'wh_1')).toBe(sealed);
    expect(new SecretBox(undefined).sealIfPlain('whsec_plain', 'wh_1')).toBe('whsec_plain');
    expect(box.open(box.sealIfPlain('whsec_plain', 'wh_1'), 'wh_1')).toBe('whsec_plain');
    expect(box.sealIfPlain('whsec_plain', 'wh_1')).toMatch(/^enc:v1:/);
  });

  it('parses a 64-hex-character key only', () => {
    expect(parseSecretsKey('ab'.repeat(32))?.length).toBe(32);
    for (const bad of ['ab'.repeat(31), 'zz'.repeat(32), randomBytes(32).toString('base64')]) expect(parseSecretsKey(bad)).toBeUndefined();
  });
});
