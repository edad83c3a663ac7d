import cliProgress from 'cli-progress';

/** How an upload's progress is shown: bars on a terminal, plain lines otherwise, nothing with --json. */
export interface Display {
  /** A file starts uploading. */
  add(name: string, totalBytes: number): FileDisplay;
  /** A line that is not progress (a result), kept above the bars. */
  log(line: string): void;
  stop(): void;
}

export interface FileDisplay {
  uploaded(bytes: number): void;
  queued(id: string): void;
  transcoding(percent: number): void;
  done(status: 'ready' | 'failed'): void;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
}

/** One bar per file (cli-progress): bytes, speed and ETA while uploading, then the transcode percentage. */
export class BarsDisplay implements Display {
  private readonly bars: cliProgress.MultiBar;
  private readonly width: number;

  constructor(names: string[], stream: NodeJS.WriteStream = process.stderr) {
    this.width = Math.min(28, Math.max(...names.map((n) => n.length)));
    this.bars = new cliProgress.MultiBar(
      {
        stream,
        format: '{name} {bar} {percentage}% | {phase}',
        barCompleteChar: '█',
        barIncompleteChar: '░',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        autopadding: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_grey,
    );
  }

  add(name: string, totalBytes: number): FileDisplay {
    const label = name.length > this.width ? `…${name.slice(-(this.width - 1))}` : name.padEnd(this.width);
    const bar = this.bars.create(Math.max(1, totalBytes), 0, { name: label, phase: 'uploading' });
    const started = performance.now();
    return {
      uploaded: (bytes) => {
        const seconds = (performance.now() - started) / 1000;
        const speed = seconds > 0 ? bytes / seconds : 0;
        const eta = speed > 0 ? (totalBytes - bytes) / speed : Infinity;
        bar.update(bytes, { phase: `${formatBytes(bytes)}/${formatBytes(totalBytes)} ${formatBytes(speed)}/s ETA ${formatSeconds(eta)}` });
      },
      queued: (id) => {
        bar.setTotal(100);
        bar.update(0, { phase: `queued ${id}` });
      },
      transcoding: (percent) => bar.update(Math.min(99, Math.floor(percent)), { phase: 'transcoding' }),
      done: (status) => bar.update(status === 'ready' ? 100 : bar.getProgress() * 100, { phase: status }),
    };
  }

  log(line: string): void {
    this.bars.log(`${line}\n`);
  }

  stop(): void {
    // cli-progress writes logged lines only on its next redraw, and stop() does not redraw: without this,
    // the result of the file that finished last was never shown (#23 item 14).
    this.bars.update();
    this.bars.stop();
  }
}

/** Plain lines for logs and pipes: each step once, upload progress every 25%, transcode progress as it comes. */
export class LinesDisplay implements Display {
  private readonly out: (line: string) => void;
  constructor(out: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {
    this.out = out;
  }

  add(name: string, totalBytes: number): FileDisplay {
    const started = performance.now();
    let nextQuarter = 25;
    let lastPercent = -1;
    return {
      uploaded: (bytes) => {
        const percent = totalBytes > 0 ? (bytes / totalBytes) * 100 : 100;
        if (percent < nextQuarter) return;
        while (percent >= nextQuarter) nextQuarter += 25;
        this.out(`${name}: uploading ${Math.floor(percent)}% (${formatBytes(bytes)} of ${formatBytes(totalBytes)})`);
      },
      queued: (id) => {
        const seconds = (performance.now() - started) / 1000;
        this.out(
          `${name}: uploaded ${formatBytes(totalBytes)} in ${seconds.toFixed(1)} s (${formatBytes(totalBytes / Math.max(seconds, 0.001))}/s) as ${id}, queued`,
        );
      },
      transcoding: (percent) => {
        const rounded = Math.floor(percent);
        if (rounded === lastPercent) return;
        lastPercent = rounded;
        this.out(`${name}: transcoding ${rounded}%`);
      },
      done: () => undefined,
    };
  }

  log(line: string): void {
    this.out(line);
  }

  stop(): void {}
}

/** --json: progress is not shown; only the final document goes to stdout. */
export class SilentDisplay implements Display {
  add(): FileDisplay {
    return { uploaded() {}, queued() {}, transcoding() {}, done() {} };
  }
  log(): void {}
  stop(): void {}
}
