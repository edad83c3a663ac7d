/** Hono context variables shared by reelay's middleware and routes. */
export interface AppEnv {
  Variables: { requestId: string };
}
