import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './status-store.ts';
import { isTenant, tenantFolder, tenantOf } from './tenants.ts';

describe('tenants', () => {
  it("data stored before tenants existed is default's", () => {
    expect(tenantOf({})).toBe('default');
    expect(tenantOf({ tenant: undefined })).toBe('default');
    expect(tenantOf({ tenant: 'acme' })).toBe('acme');
  });

  it('default keeps its old folders; other tenants get their own', () => {
    expect(tenantFolder('default', 'channels')).toBe('channels');
    expect(tenantFolder('acme', 'channels')).toBe('tenants/acme/channels');
  });

  it('names: lowercase letters, digits and "-", at most 32', () => {
    expect(['acme', 'a-1', 'x'.repeat(32)].every(isTenant)).toBe(true);
    expect(['Acme', '', 'a_b', 'x'.repeat(33), '../x'].some(isTenant)).toBe(false);
  });

  it('a list cursor is valid only for the tenant whose index it points into', () => {
    const defaultCursor = encodeCursor(`index/${'1'.repeat(13)}-01ARZ3NDEKTSV4RRFFQ69G5FAV`);
    const acmeCursor = encodeCursor(`tenants/acme/index/${'1'.repeat(13)}-01ARZ3NDEKTSV4RRFFQ69G5FAV`);
    expect(decodeCursor(defaultCursor, 'default')).toBeDefined();
    expect(decodeCursor(defaultCursor, 'acme')).toBeUndefined();
    expect(decodeCursor(acmeCursor, 'acme')).toBeDefined();
    expect(decodeCursor(acmeCursor, 'default')).toBeUndefined();
  });
});
