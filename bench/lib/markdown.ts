/**
 * A GitHub-flavoured markdown table, padded to line up in a terminal too. The
 * first `textColumns` columns are left-aligned, the rest (numbers) right-aligned.
 */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[], { textColumns = 1 } = {}): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length), 3));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i < textColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i < textColumns ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** Fixed decimals, or an em dash for a missing value. */
export function fixed(value: number | undefined, digits = 2): string {
  return value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
}

export function mib(bytes: number | undefined, digits = 1): string {
  return bytes === undefined ? '—' : (bytes / 1024 / 1024).toFixed(digits);
}

export function times(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}
