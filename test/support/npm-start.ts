import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * PATH with every directory whose `node` is 22.18 or newer taken out, so that
 * `npm start` can only get a new enough Node from the project itself
 * (node_modules/.bin, which npm puts first). On a machine whose only Node is
 * new, nothing older is left to prove that with: PATH is kept as it is.
 */
export function pathWithoutModernNode(): { PATH: string; systemNode: string | undefined } {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const versionOf = (dir: string) => {
    const node = path.join(dir, 'node');
    if (!existsSync(node)) return undefined;
    try {
      return execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  };
  const modern = (v: string) => {
    const [major = 0, minor = 0] = v.split('.').map(Number);
    return major > 22 || (major === 22 && minor >= 18);
  };
  const kept = dirs.filter((dir) => {
    const v = versionOf(dir);
    return v === undefined || !modern(v);
  });
  const systemNode = kept.map(versionOf).find((v) => v !== undefined);
  if (systemNode === undefined) return { PATH: dirs.join(path.delimiter), systemNode: undefined };
  return { PATH: kept.join(path.delimiter), systemNode };
}

export interface NpmStart {
  child: ChildProcess;
  /** Everything the stack printed so far (stdout and stderr). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** A signal to the whole process group, as Ctrl-C in a terminal sends SIGINT to every process of the foreground job. */
  signalGroup(signal: NodeJS.Signals): void;
}

/**
 * `npm start` as a user runs it in a terminal: its own process group (the
 * terminal's foreground job), a PATH without a new enough Node, fixed ports
 * replaced by free ones, state in `dataDir`.
 */
export function npmStart(env: Record<string, string>): NpmStart {
  const { PATH } = pathWithoutModernNode();
  const child = spawn('npm', ['start'], {
    cwd: root,
    detached: true,
    env: { PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => output,
    exited,
    signalGroup(signal) {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // the group is gone already
      }
    },
  };
}

export function isAlive(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch {
    return false;
  }
}
