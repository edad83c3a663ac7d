import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** `manifest.tsv` of DIR (header row; `filename` and `expected` columns), as filename → expected text. */
export async function readManifest(dir: string): Promise<Map<string, string>> {
  const text = await readFile(path.join(dir, 'manifest.tsv'), 'utf8').catch(() => '');
  const [header, ...lines] = text.split('\n').filter((l) => l.trim());
  const columns = (header ?? '').split('\t');
  const file = columns.indexOf('filename');
  const expected = columns.indexOf('expected');
  const map = new Map<string, string>();
  if (file < 0 || expected < 0) return map;
  for (const line of lines) {
    const cells = line.split('\t');
    if (cells[file]) map.set(cells[file], cells[expected] ?? '');
  }
  return map;
}

/** `ready: …` → ['ready']; `failed: … - or ready from …` → ['failed', 'ready']; nothing → undefined. */
export function expectedOutcomes(text: string | undefined): string[] | undefined {
  if (!text) return undefined;
  const first = /^(ready|failed)/.exec(text.trim())?.[1];
  if (!first) return undefined;
  const other = first === 'ready' ? 'failed' : 'ready';
  return new RegExp(`\\bor ${other}\\b`).test(text) ? [first, other] : [first];
}
