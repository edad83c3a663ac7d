import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Config } from '../config/index.ts';

export type BinaryOrigin = 'env' | 'path' | 'npm';
export interface LocatedBinary {
  path: string;
  origin: BinaryOrigin;
}
export interface FfmpegBinaries {
  ffmpeg: LocatedBinary;
  ffprobe: LocatedBinary;
}

const require = createRequire(import.meta.url);

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First executable `name` on a PATH-style list of directories. */
export function findOnPath(name: string, searchPath: string | undefined): string | undefined {
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function fromNpm(pkg: '@ffmpeg-installer/ffmpeg' | '@ffprobe-installer/ffprobe'): string | undefined {
  try {
    const found = (require(pkg) as { path?: string }).path;
    return found && isExecutable(found) ? found : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where ffmpeg and ffprobe come from: `FFMPEG_PATH`/`FFPROBE_PATH`, then the
 * system PATH (a distribution's ffmpeg gets security fixes), then the static
 * builds shipped in npm packages so that a bare `npm install` still works.
 */
export function locateFfmpeg({
  ffmpegPath,
  ffprobePath,
  searchPath,
  npm = fromNpm,
}: Partial<Pick<Config['ffmpeg'], 'ffmpegPath' | 'ffprobePath'>> &
  Pick<Config['ffmpeg'], 'searchPath'> & {
    npm?: (pkg: '@ffmpeg-installer/ffmpeg' | '@ffprobe-installer/ffprobe') => string | undefined;
  }): FfmpegBinaries {
  const pick = (
    name: string,
    explicit: string | undefined,
    pkg: '@ffmpeg-installer/ffmpeg' | '@ffprobe-installer/ffprobe',
  ): LocatedBinary => {
    if (explicit) {
      if (!isExecutable(explicit)) throw new Error(`${name.toUpperCase()}_PATH=${explicit} is not an executable file`);
      return { path: explicit, origin: 'env' };
    }
    const onPath = findOnPath(name, searchPath);
    if (onPath) return { path: onPath, origin: 'path' };
    const bundled = npm(pkg);
    if (bundled) return { path: bundled, origin: 'npm' };
    throw new Error(`${name} not found: set ${name.toUpperCase()}_PATH, install it (apt-get install -y ffmpeg) or run npm install`);
  };
  return {
    ffmpeg: pick('ffmpeg', ffmpegPath, '@ffmpeg-installer/ffmpeg'),
    ffprobe: pick('ffprobe', ffprobePath, '@ffprobe-installer/ffprobe'),
  };
}
