import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onExit, type Cleanup } from './cleanup.ts';

/** A fresh directory under the OS temp dir, removed (with everything in it) by `cleanup` or at exit. */
export async function makeTempDir(cleanup: Cleanup, label: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `reelay-bench-${label}-`));
  const unregister = onExit(() => rmSync(dir, { recursive: true, force: true }));
  cleanup.defer(`remove ${dir}`, async () => {
    await rm(dir, { recursive: true, force: true });
    unregister();
  });
  return dir;
}
