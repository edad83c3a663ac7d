/** Hono context variables shared by reelay's middleware and routes. */
export interface AppEnv {
  /** `caller`: the short id of the API key used (or `anonymous`), for logs and rate limits. */
  Variables: { requestId: string; caller: string };
}
