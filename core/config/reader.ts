/** An environment: `process.env`, or the variables a test or the dev stack hands over. */
export type Env = Record<string, string | undefined>;

/**
 * Reads one variable at a time into a typed value. Collects every problem instead of stopping at the
 * first, so one start-up names them all; a bad value leaves the default in place meanwhile.
 */
export class Reader {
  private readonly env: Env;
  private readonly problems: string[];
  constructor(env: Env, problems: string[]) {
    this.env = env;
    this.problems = problems;
  }

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  str(name: string, fallback: string, pattern?: RegExp, expected?: string): string {
    const value = this.raw(name) ?? fallback;
    if (pattern && !pattern.test(value)) {
      this.problems.push(`${name}=${JSON.stringify(value)} is invalid${expected ? `: expected ${expected}` : ''}`);
    }
    return value;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || n < min || n > max) {
      this.problems.push(`${name}=${JSON.stringify(value)} is invalid: expected a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  /** A number of seconds that may have decimals (0.5). */
  decimal(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || n < min || n > max) {
      this.problems.push(`${name}=${JSON.stringify(value)} is invalid: expected a number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  /** One of `allowed`; `caseless`: in any case (`JSON` for `json`). */
  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[], { caseless = false } = {}): T {
    const raw = this.raw(name);
    const value = caseless ? raw?.toLowerCase() : raw;
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${name}=${JSON.stringify(raw)} is invalid: expected one of ${allowed.join(', ')}`);
      return fallback;
    }
    return value as T;
  }

  /** A port to listen on: 0 picks a free one, `off` listens on none. */
  portOrOff(name: string, fallback: number): number | 'off' {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (value === 'off') return 'off';
    if (!/^\d+$/.test(value) || Number(value) > 65_535) {
      this.problems.push(`${name}=${JSON.stringify(value)} is invalid: expected a port number (0 picks a free one) or off`);
      return fallback;
    }
    return Number(value);
  }

  url(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
      return value.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${name}=${JSON.stringify(value)} is invalid: expected an http(s) URL such as http://localhost:4566`);
      return undefined;
    }
  }

  /** Sizes: a number of bytes, or with a unit: 500MB, 2GiB, 10k. */
  bytes(name: string, fallback: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = parseBytes(value);
    if (parsed === undefined || parsed < 1) {
      this.problems.push(`${name}=${JSON.stringify(value)} is invalid: expected a size such as 1048576, 500MB or 2GiB`);
      return fallback;
    }
    return parsed;
  }
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

export function parseBytes(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = UNITS[(match[2] ?? '').toLowerCase()];
  if (unit === undefined) return undefined;
  return Math.floor(Number(match[1]) * unit);
}
