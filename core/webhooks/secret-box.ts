import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Sealed values start with this (plain webhook secrets start with `whsec_`, so the two never mix up). */
const SEALED = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A secret that cannot be opened here: no key, or not the key it was sealed with. */
export class SecretKeyError extends Error {
  override name = 'SecretKeyError';
}

/** `REELAY_SECRETS_KEY`: 32 bytes written as 64 hex characters (`openssl rand -hex 32`). */
export function parseSecretsKey(text: string): Buffer | undefined {
  return /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : undefined;
}

/**
 * Secrets at rest (webhook signing secrets in S3), sealed with AES-256-GCM
 * under `REELAY_SECRETS_KEY`: `enc:v1:<base64url of iv ‖ ciphertext ‖ tag>`,
 * a fresh 96-bit IV each time, and the owner's id as additional data, so a
 * sealed value copied onto another document does not open. Without a key
 * values are kept as they are (the API stores new secrets so only without API
 * keys); a plain value read back (stored before encryption) opens as itself.
 */
export class SecretBox {
  private readonly key: Buffer | undefined;
  constructor(key: Buffer | undefined) {
    if (key && key.length !== 32) throw new Error('a secrets key is 32 bytes');
    this.key = key;
  }

  get encrypts(): boolean {
    return this.key !== undefined;
  }

  seal(plain: string, owner: string): string {
    if (!this.key) return plain;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(owner, 'utf8'));
    const sealed = Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return SEALED + sealed.toString('base64url');
  }

  /** A stored value as it should be stored now: a sealed one as it is (no key needed), a plain one sealed when there is a key. */
  sealIfPlain(stored: string, owner: string): string {
    return stored.startsWith(SEALED) ? stored : this.seal(stored, owner);
  }

  open(stored: string, owner: string): string {
    if (!stored.startsWith(SEALED)) return stored;
    if (!this.key) throw new SecretKeyError(`the secret of ${owner} is encrypted and REELAY_SECRETS_KEY is not set in this process`);
    const data = Buffer.from(stored.slice(SEALED.length), 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(owner, 'utf8'));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      return Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretKeyError(
        `the secret of ${owner} cannot be decrypted with this REELAY_SECRETS_KEY (sealed with another key, or altered)`,
      );
    }
  }
}
