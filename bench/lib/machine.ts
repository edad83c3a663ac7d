import { execFile } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { promisify } from 'node:util';
import type { FfmpegBinaries } from '../../core/ffmpeg/locate.ts';
import { ffmpegVersion } from './ffmpeg.ts';

const execFileAsync = promisify(execFile);

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  kernel: string;
  node: string;
  ffmpeg: { path: string; origin: string; version: string };
  ffprobe: { path: string; origin: string; version: string };
  /** 1-minute load average when the run started: how busy the shared machine was. */
  loadAverageAtStart: number;
}

export async function machineInfo(binaries: FfmpegBinaries): Promise<MachineInfo> {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    kernel: release(),
    node: process.version,
    ffmpeg: { path: binaries.ffmpeg.path, origin: binaries.ffmpeg.origin, version: await ffmpegVersion(binaries.ffmpeg.path) },
    ffprobe: { path: binaries.ffprobe.path, origin: binaries.ffprobe.origin, version: await ffmpegVersion(binaries.ffprobe.path) },
    loadAverageAtStart: loadavg()[0] ?? 0,
  };
}

export interface GitInfo {
  /** Short commit hash, or `nogit`. */
  commit: string;
  /** True when the work tree had changes: the figures are then not those of `commit` alone. */
  dirty: boolean;
}

export async function gitInfo(cwd: string): Promise<GitInfo> {
  try {
    const { stdout: commit } = await execFileAsync('git', ['rev-parse', '--short', 'HEAD'], { cwd });
    const { stdout: status } = await execFileAsync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd });
    return { commit: commit.trim(), dirty: status.trim() !== '' };
  } catch {
    return { commit: 'nogit', dirty: false };
  }
}
