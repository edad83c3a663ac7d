/** Keeps the last `max` characters of ffmpeg's stderr, on a line boundary. */
export function stderrTail(stderr: string, max = 600): string {
  const text = stderr.trim();
  if (text.length <= max) return text;
  const cut = text.slice(-max);
  const nl = cut.indexOf('\n');
  return nl >= 0 ? cut.slice(nl + 1) : cut;
}
