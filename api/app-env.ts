import type { TokenClaims } from './auth/tokens.ts';

/** Hono context variables shared by reelay's middleware and routes. */
export interface AppEnv {
  /**
   * `caller`: the short id of the API key used (or `anonymous`), for logs and rate limits.
   * `tenant`: whose data the request may see and change (`default` without keys).
   * `token`: the scoped token the request came with, if it came with one rather than an API key.
   */
  Variables: { requestId: string; caller: string; tenant: string; token: TokenClaims | undefined };
}
