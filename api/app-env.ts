/** Hono context variables shared by reelay's middleware and routes. */
export interface AppEnv {
  /**
   * `caller`: the short id of the API key used (or `anonymous`), for logs and rate limits.
   * `tenant`: whose data the request may see and change (`default` without keys).
   */
  Variables: { requestId: string; caller: string; tenant: string };
}
