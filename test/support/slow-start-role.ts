import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { runRole } from '../../core/run-role.ts';

/**
 * A role for tests of core/run-role.ts: its start-up makes a directory under SLOW_ROLE_DIR, tells the parent
 * (IPC `starting`, with the path) and then waits for the parent's `finish` before it is started; stopping
 * removes the directory.
 */
await runRole('slow-start', async () => {
  const dir = await mkdtemp(path.join(process.env.SLOW_ROLE_DIR!, 'made-while-starting-'));
  process.send?.({ type: 'starting', dir });
  await new Promise<void>((resolve) => process.on('message', (m: { type?: string }) => m.type === 'finish' && resolve()));
  return { stop: () => rm(dir, { recursive: true, force: true }) };
});
