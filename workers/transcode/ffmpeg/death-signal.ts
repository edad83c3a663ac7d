import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findOnPath } from './locate.ts';

/**
 * A worker killed with SIGKILL cannot stop its ffmpeg child, which would run
 * on as an orphan. On Linux, `setpriv --pdeathsig KILL` (util-linux) asks the
 * kernel to kill ffmpeg when its parent dies. This writes a tiny launcher that
 * execs ffmpeg that way and returns its path, or undefined where setpriv is
 * missing (then ffmpeg is started directly).
 */
export async function parentDeathLauncher(
  ffmpegPath: string,
  dir: string,
  searchPath: string | undefined = process.env.PATH,
): Promise<{ path: string; remove(): Promise<void> } | undefined> {
  const setpriv = process.platform === 'linux' ? findOnPath('setpriv', searchPath) : undefined;
  if (!setpriv) return undefined;
  await mkdir(dir, { recursive: true });
  const launcher = path.join(dir, `reelay-ffmpeg-${process.pid}.sh`);
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  await writeFile(launcher, `#!/bin/sh\nexec ${quote(setpriv)} --pdeathsig KILL ${quote(ffmpegPath)} "$@"\n`, { mode: 0o755 });
  return { path: launcher, remove: () => rm(launcher, { force: true }) };
}
