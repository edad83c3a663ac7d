import { z } from 'zod';

/**
 * The one rule for text a client sends (titles, file names, channel titles,
 * metadata): no C0 or C1 control characters or DEL (CR/LF/NUL/ESC break logs,
 * headers and terminals), no bidirectional overrides, isolates or marks
 * (U+202E makes `evil‮4pm.exe` read as `evilexe.mp4`), no line or paragraph
 * separators or byte-order marks, no unpaired surrogates; and a length cap.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATE_ALL = new RegExp(LONE_SURROGATE.source, 'g');

export const MAX_TITLE_LENGTH = 200;
export const MAX_FILENAME_LENGTH = 255;

/** Why `value` (already trimmed) may not be stored, or undefined when it may. */
export function clientTextProblem(value: string, max: number): string | undefined {
  if (value.length > max) return `is longer than ${max} characters`;
  if (LONE_SURROGATE.test(value)) return 'is not well-formed Unicode (unpaired surrogate)';
  const bad = UNSAFE.exec(value);
  if (bad)
    return `contains a control or bidirectional-formatting character (U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
  return undefined;
}

/** For text that is never a reason to refuse a request (an uploaded file's name): the unsafe characters dropped, cut to `max`. */
export function cleanClientText(value: string, max: number): string | undefined {
  const clean = value.replace(LONE_SURROGATE_ALL, '').replace(UNSAFE_ALL, '').trim();
  // Cut by code points, so a cut never splits a surrogate pair.
  const cut = [...clean].slice(0, max).join('').trim();
  return cut || undefined;
}

/** A zod string under the same rule, for JSON bodies (trimmed). */
export function clientText(max: number) {
  return z
    .string()
    .trim()
    .superRefine((value, ctx) => {
      const problem = clientTextProblem(value, max);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

/**
 * The default title of an upload from its file's name, the same for every way in (multipart, direct, tus and
 * the CLI): the name cleaned by the rule above, without its extension (`Holiday 2026.mp4` → `Holiday 2026`),
 * cut to MAX_TITLE_LENGTH. A name that is nothing but an extension keeps it.
 */
export function titleFromFilename(name: string): string | undefined {
  const file = cleanFilename(name);
  if (!file) return undefined;
  const stem = file.replace(/\.[A-Za-z0-9]{1,5}$/, '').trim();
  return cleanClientText(stem || file, MAX_TITLE_LENGTH);
}

/** An uploaded file's name as reelay keeps it: the last path segment, cleaned by the rule above, at most 255 characters. */
export function cleanFilename(name: string): string | undefined {
  const base = name.replaceAll('\\', '/').split('/').pop() ?? '';
  return cleanClientText(base, MAX_FILENAME_LENGTH);
}
