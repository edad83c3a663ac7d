import { readFileSync } from 'node:fs';
import { DEFAULT_TENANT, isTenant } from '../tenants.ts';
import { parseSecretsKey } from '../webhooks/secret-box.ts';
import type { Reader } from './reader.ts';
import type { ApiKey, Config } from './schema.ts';

/*
 * Who may call the API and with which secrets: API keys and REELAY_AUTH, the scoped tokens' HMAC
 * secret, the key that encrypts webhook secrets, and the browser origins allowed. Each reader adds
 * what is wrong to `problems`, in words that name the variable and never echo a secret.
 */

/** A key shorter than this is refused: keys are secrets, not passwords to remember. */
const MIN_KEY_LENGTH = 16;

/**
 * API keys from REELAY_API_KEYS (comma-separated) and/or REELAY_API_KEYS_FILE (one a line, # comments).
 * An entry `tenant:key` acts for that tenant; a bare key for `default`.
 */
export function readAuth(r: Reader, problems: string[]): Config['api']['auth'] {
  const entries = (r.optional('REELAY_API_KEYS') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const file = r.optional('REELAY_API_KEYS_FILE');
  if (file) {
    try {
      entries.push(
        ...readFileSync(file, 'utf8')
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#')),
      );
    } catch (err) {
      problems.push(`REELAY_API_KEYS_FILE=${JSON.stringify(file)} cannot be read: ${(err as Error).message}`);
    }
  }
  const keys: ApiKey[] = [];
  const badTenants = new Set<string>();
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const tenant = colon < 0 ? DEFAULT_TENANT : entry.slice(0, colon);
    if (!isTenant(tenant)) badTenants.add(tenant.slice(0, 40));
    keys.push({ tenant, key: colon < 0 ? entry : entry.slice(colon + 1) });
  }
  if (badTenants.size > 0) {
    problems.push(
      `REELAY_API_KEYS: tenant name(s) ${[...badTenants].map((t) => JSON.stringify(t)).join(', ')} invalid: expected lowercase letters, digits and "-", at most 32 characters (write tenant:key)`,
    );
  }
  const short = keys.filter(({ key }) => key.length < MIN_KEY_LENGTH || /\s/.test(key));
  if (short.length > 0)
    problems.push(`REELAY_API_KEYS: ${short.length} key(s) shorter than ${MIN_KEY_LENGTH} characters or containing spaces`);
  const unique = new Map<string, ApiKey>();
  for (const entry of keys) {
    const seen = unique.get(entry.key);
    if (seen && seen.tenant !== entry.tenant)
      problems.push(`REELAY_API_KEYS: one key is given to two tenants (${seen.tenant} and ${entry.tenant})`);
    unique.set(entry.key, entry);
  }
  const chosen = r.optional('REELAY_AUTH');
  if (chosen !== undefined && chosen !== 'keys' && chosen !== 'none') {
    problems.push(`REELAY_AUTH=${JSON.stringify(chosen)} is invalid: expected keys or none`);
  }
  if (chosen === 'keys' && keys.length === 0) problems.push('REELAY_AUTH=keys needs REELAY_API_KEYS or REELAY_API_KEYS_FILE');
  if (chosen === 'none' && keys.length > 0) problems.push('REELAY_AUTH=none contradicts the REELAY_API_KEYS that are set');
  if (chosen === 'none') return { mode: 'none', keys: [] };
  return { mode: keys.length > 0 ? 'keys' : 'unconfigured', keys: [...unique.values()] };
}

/** REELAY_SECRETS_KEY: 32 bytes as 64 hex characters. */
export function readSecretsKey(r: Reader, problems: string[]): Buffer | undefined {
  const text = r.optional('REELAY_SECRETS_KEY');
  if (text === undefined) return undefined;
  const key = parseSecretsKey(text);
  if (!key) problems.push('REELAY_SECRETS_KEY is invalid: expected 64 hex characters (32 bytes), e.g. from `openssl rand -hex 32`');
  return key;
}

/** A token secret shorter than this is refused (HS256 wants at least 256 bits). */
const MIN_TOKEN_SECRET_LENGTH = 32;

export function readTokenSecret(r: Reader, problems: string[]): string | undefined {
  const secret = r.optional('REELAY_TOKEN_SECRET');
  if (secret !== undefined && secret.length < MIN_TOKEN_SECRET_LENGTH) {
    problems.push(`REELAY_TOKEN_SECRET is shorter than ${MIN_TOKEN_SECRET_LENGTH} characters (use e.g. \`openssl rand -hex 32\`)`);
  }
  return secret;
}

/** `https://app.example.com,http://localhost:5173`: exact origins (scheme, host, port), or `*`. */
export function readCorsOrigins(r: Reader, problems: string[]): string[] {
  const origins = (r.optional('REELAY_CORS_ORIGINS') ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (origin === '*') continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== origin) {
      problems.push(
        `REELAY_CORS_ORIGINS: ${JSON.stringify(origin.slice(0, 100))} is not an origin such as https://app.example.com (no path, no trailing slash)`,
      );
    }
  }
  return origins;
}
