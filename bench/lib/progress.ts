/** Progress lines go to stderr, so stdout carries only the report. */
const startedAt = performance.now();

export function progress(message: string): void {
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${seconds}s] ${message}\n`);
}
