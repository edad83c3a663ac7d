/** One file's result. `problems` empty = as expected and every check passed. */
export interface Row {
  file: string;
  id?: string;
  outcome: string;
  code?: string;
  detail: string;
  seconds: number;
  attempts?: number;
  expected: string[] | undefined;
  problems: string[];
  outputs?: Record<string, unknown>;
  notes?: string[];
}

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** A Markdown table (it reads well in a terminal too) and a summary line. */
export function formatTable(rows: Row[]): string {
  const lines = [
    '| file | outcome | reason or outputs | seconds | check |',
    '| --- | --- | --- | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.file} | ${r.outcome} | ${cut(r.detail, 110).replaceAll('|', '\\|')} | ${r.seconds.toFixed(1)} | ${r.problems.length ? `**${cut(r.problems.join('; '), 160).replaceAll('|', '\\|')}**` : 'ok'} |`,
    ),
  ];
  const count = (o: string) => rows.filter((r) => r.outcome === o).length;
  const ok = rows.filter((r) => r.problems.length === 0).length;
  const total = rows.reduce((sum, r) => sum + r.seconds, 0);
  lines.push(
    '',
    `${rows.length} files: ${count('ready')} ready, ${count('failed')} failed, ${rows.length - count('ready') - count('failed')} other; ` +
      `${ok}/${rows.length} as expected with every check passed; ${total.toFixed(0)} s of transcoding.`,
  );
  return lines.join('\n');
}
