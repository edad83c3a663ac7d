import { describe, expect, it } from 'vitest';
import { cleanClientText, clientTextProblem, titleFromFilename } from './client-text.ts';

describe('client text', () => {
  it('refuses C0/C1 controls, DEL, bidi controls, separators, BOM and lone surrogates; accepts ordinary Unicode', () => {
    for (const bad of [
      'a\rb',
      'a\nb',
      'a\u0000b',
      'a\u001b[31mb',
      'a\u007fb',
      'a\u0085b',
      'a\u009bb',
      'evil\u202Egnp.exe',
      'a\u2066b',
      'a\u200fb',
      'a\u2028b',
      'a\ufeffb',
      'a\ud800b',
      'a\udc00',
    ]) {
      expect(clientTextProblem(bad, 200), JSON.stringify(bad)).toBeDefined();
    }
    for (const good of ['Holiday 2026', 'Été à Zürich — 東京 🎬', 'שלום', '']) expect(clientTextProblem(good, 200), good).toBeUndefined();
    expect(clientTextProblem('x'.repeat(201), 200)).toMatch(/longer than 200/);
  });

  it('cleans a file name instead of refusing it: unsafe characters dropped, cut by code points', () => {
    expect(cleanClientText('cat\r\n\u0000\u001b\u202Evideo.mp4', 255)).toBe('catvideo.mp4');
    expect(cleanClientText('🎬'.repeat(300), 255)).toBe('🎬'.repeat(255));
    expect(cleanClientText('\u0000\u202E ', 255)).toBeUndefined();
  });
});

describe('titleFromFilename', () => {
  it('is the cleaned name without its extension, the same for every way in (#23 item 17)', () => {
    expect(titleFromFilename('Holiday 2026.mp4')).toBe('Holiday 2026');
    expect(titleFromFilename('C:\\videos\\talk.final.mkv')).toBe('talk.final');
    expect(titleFromFilename('no-extension')).toBe('no-extension');
    expect(titleFromFilename('.mp4')).toBe('.mp4');
    expect(titleFromFilename('evil\u202e4pm.exe')).toBe('evil4pm');
  });
});
