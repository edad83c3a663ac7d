import type { ChildProcess } from 'node:child_process';
import type { Cleanup } from './cleanup.ts';

/** Resolves when the child has exited (at once when it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
export async function stopChild(child: ChildProcess, { graceMs = 5000 }: { graceMs?: number } = {}): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    child.kill('SIGTERM');
    await exited(child);
  } finally {
    clearTimeout(kill);
  }
}

/** Makes sure the child does not outlive the benchmark: stopped by `cleanup` (and killed at exit, as every child is). */
export function ownChild(cleanup: Cleanup, child: ChildProcess, label: string): ChildProcess {
  cleanup.defer(`stop ${label}`, () => stopChild(child));
  return child;
}
