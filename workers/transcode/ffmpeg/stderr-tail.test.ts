import { describe, expect, it } from 'vitest';
import { stderrTail } from './stderr-tail.ts';

describe('stderrTail', () => {
  it('keeps the end, on a line boundary', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n');
    const tail = stderrTail(lines, 50);
    expect(tail.length).toBeLessThanOrEqual(50);
    expect(tail.endsWith('line 199')).toBe(true);
    expect(tail.startsWith('line ')).toBe(true);
  });
});
