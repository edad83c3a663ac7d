/**
 * Tenants: every video, live channel, webhook endpoint and event belongs to
 * one. An API key names its tenant (`tenant:key` in REELAY_API_KEYS; a bare key
 * is `default`'s). Data stored before tenants existed carries none and is
 * `default`'s, so single-key setups keep working unchanged.
 */
export const DEFAULT_TENANT = 'default';

const TENANT = /^[a-z0-9-]{1,32}$/;

export function isTenant(value: string): boolean {
  return TENANT.test(value);
}

/** The tenant of a stored document or event: its `tenant`, or `default` when it has none. */
export function tenantOf(value: { tenant?: string | undefined }): string {
  return value.tenant ?? DEFAULT_TENANT;
}

/**
 * The S3 folder of a tenant's documents of one kind: `default` keeps the
 * folder it always had (`channels/`), others get `tenants/<tenant>/channels/`.
 */
export function tenantFolder(tenant: string, folder: string): string {
  return tenant === DEFAULT_TENANT ? folder : `tenants/${tenant}/${folder}`;
}
