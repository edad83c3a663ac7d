import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** Linux /proc readings of one process. Sizes in bytes, CPU in seconds. */

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface MemoryReading {
  /** VmRSS: resident set size now. */
  rss: number;
  /** VmHWM: peak resident set size since start or the last `resetPeakRss`. */
  hwm: number;
}

export function readMemory(pid: number): MemoryReading {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(match[1]) * 1024;
  };
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false where the kernel does not allow it. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Fields of /proc/<pid>/stat after the command name, which may itself contain spaces. */
function statFields(pid: number | 'self'): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Processes whose parent is `ppid` (zombies included). */
export function childPids(ppid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of stat(5), the parent pid, is index 1 here.
      if (Number(statFields(Number(entry))[1]) === ppid) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

/** CPU time (user + system) the process has used so far. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  // utime and stime are fields 14 and 15 of stat(5); index 0 here is field 3.
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
}

/**
 * CPU time (user + system) of this process plus every child it has reaped
 * (cutime/cstime), e.g. ffmpeg runs. Differences of two readings measure what
 * a step cost in CPU, which a noisy shared machine distorts less than wall time.
 */
export function cpuSecondsWithChildren(): number {
  const f = statFields('self');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
}

export interface SystemCpu {
  /** Seconds of CPU time every core together spent on work (user, nice, system, irq). */
  busySeconds: number;
  /** Seconds the hypervisor gave this VM's cores to someone else. */
  stealSeconds: number;
}

/** Machine-wide CPU counters (first line of /proc/stat), summed over all cores. */
export function readSystemCpu(): SystemCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busySeconds: (user + nice + system + irq + softirq) / CLOCK_TICKS, stealSeconds: steal / CLOCK_TICKS };
}

/**
 * CPU time (user + system) of a process plus every child it has reaped so far
 * (a worker process and its finished ffmpeg/ffprobe runs); 0 once it is gone.
 */
export function cpuSecondsWithReapedChildren(pid: number): number {
  try {
    const f = statFields(pid);
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
