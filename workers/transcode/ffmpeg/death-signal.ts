import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findOnPath } from '../../../core/ffmpeg/locate.ts';

/**
 * A worker killed with SIGKILL cannot stop its ffmpeg child, which would run
 * on as an orphan. On Linux, `setpriv --pdeathsig KILL` (util-linux) asks the
 * kernel to kill ffmpeg when its parent dies. And Ctrl-C in a terminal sends
 * SIGINT to the whole foreground process group, ffmpeg included, which would
 * turn the job in hand into a failed attempt before the worker could finish
 * it: `setsid` (util-linux, no fork — the launcher is not a group leader, so
 * the pid stays ffmpeg's) gives ffmpeg a session of its own, so only its
 * worker signals it. This writes a tiny launcher that execs ffmpeg that way
 * and returns its path, or undefined where setpriv is missing (then ffmpeg is
 * started directly).
 */
export async function parentDeathLauncher(
  ffmpegPath: string,
  dir: string,
  /** `config.ffmpeg.searchPath` (PATH). */
  searchPath: string | undefined,
): Promise<{ path: string; remove(): Promise<void> } | undefined> {
  const setpriv = process.platform === 'linux' ? findOnPath('setpriv', searchPath) : undefined;
  if (!setpriv) return undefined;
  const setsid = findOnPath('setsid', searchPath);
  await mkdir(dir, { recursive: true });
  // A private directory of its own (mkdtemp: unpredictable name, mode 0700): nobody else can plant or swap the script.
  const own = await mkdtemp(path.join(dir, 'reelay-ffmpeg-'));
  const launcher = path.join(own, 'ffmpeg.sh');
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const ownSession = setsid ? `${quote(setsid)} ` : '';
  await writeFile(launcher, `#!/bin/sh\nexec ${ownSession}${quote(setpriv)} --pdeathsig KILL ${quote(ffmpegPath)} "$@"\n`, {
    mode: 0o700,
    flag: 'wx',
  });
  return { path: launcher, remove: () => rm(own, { recursive: true, force: true }) };
}
