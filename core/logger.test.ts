import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config/index.ts';
import { childLogger, createLogger } from './logger.ts';
import { describeEndpoint } from './run-role.ts';

/** Issue #16 defect 6: one key once per line, error messages said once, the emulator hint on its real port. */
function capture(): { sink: Writable; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { sink, lines };
}

/** The top-level keys of a JSON line as written, duplicates included (JSON.parse would hide them). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1 && line[j + 1] === ':') keys.push(line.slice(i + 1, j));
      i = j;
    } else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
  }
  return keys;
}

describe('log lines', () => {
  it('a child logger adds only keys its parent does not have', () => {
    const { sink, lines } = capture();
    const worker = createLogger('worker', { destination: sink }).child({ videoId: 'V1', jobId: 'J1' });
    childLogger(worker, { videoId: 'V1', attempt: 2 }).info('transcoding');
    const keys = topLevelKeys(lines[0]!);
    expect(keys.filter((k) => k === 'videoId')).toHaveLength(1);
    expect(keys).toContain('attempt');
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('an error that quotes its cause is printed with the cause once', () => {
    const { sink, lines } = capture();
    const cause = new Error('The specified queue does not exist.');
    const err = new Error(`reelay resources are missing: ${cause.message}`, { cause });
    createLogger('api', { destination: sink }).error({ err }, 'failed to start');
    const logged = JSON.parse(lines[0]!) as { err: { message: string; stack: string } };
    expect(logged.err.message).toBe('reelay resources are missing: The specified queue does not exist.');
    expect(logged.err.stack).toContain('caused by');
    // A cause that is not quoted is still named.
    const { sink: sink2, lines: lines2 } = capture();
    createLogger('api', { destination: sink2 }).error({ err: new Error('upload failed', { cause: new Error('socket hang up') }) }, 'x');
    expect((JSON.parse(lines2[0]!) as { err: { message: string } }).err.message).toBe('upload failed: socket hang up');
  });

  it('the local-stack hint names the configured emulator port', () => {
    expect(describeEndpoint(loadConfig({ REELAY_EMULATOR_PORT: '4599' }))).toBe(
      'AWS (no AWS_ENDPOINT_URL; the local stack is http://localhost:4599)',
    );
    expect(describeEndpoint(loadConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4700' }))).toBe('http://127.0.0.1:4700');
  });
});
