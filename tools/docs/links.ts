import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The docs link check (`npm test` runs it through links.test.ts; `node tools/docs/links.ts [root]` prints
 * what it finds). In every Markdown file of the repository it finds:
 * - relative links and images (`[t](docs/x.md#part)`, `![a](img.png)`, `<img src>`, `<a href>`) whose file is
 *   missing, or whose `#anchor` is not a heading of the target file;
 * - repository paths written as code (`api/main.ts`, `workers/transcode/`, also in code blocks) that no
 *   longer exist, so a moved file cannot leave the docs pointing at its old place.
 * Anchors are GitHub's: the heading's text, lower-cased, punctuation dropped, spaces made dashes, `-1`, `-2`
 * added to repeats.
 */

export interface DocProblem {
  /** The Markdown file, relative to the repository root. */
  file: string;
  line: number;
  message: string;
}

/** Folders never searched for Markdown (dependencies, emulator state, generated results). */
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.reelay', 'results', 'cdk.out']);

/** The repository's top-level folders (`api`, `core`, `.ci`, …): a code token starting with one of them is a path to check. */
export function repoRoots(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !SKIPPED_DIRS.has(entry.name) && (entry.name === '.ci' || !entry.name.startsWith('.')))
    .map((entry) => entry.name);
}

/** GitHub's anchor for a heading's Markdown text. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML tags
    .replace(/[`*]/g, ''); // code and emphasis marks
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

interface Line {
  number: number;
  text: string;
  fenced: boolean;
}

function lines(markdown: string): Line[] {
  let fence: string | undefined;
  return markdown.split('\n').map((text, i) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(text)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      return { number: i + 1, text, fenced: true };
    }
    return { number: i + 1, text, fenced: fence !== undefined };
  });
}

/** Every anchor a Markdown file offers: its headings' slugs (repeats numbered) and explicit `<a id|name>`. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text, fenced } of lines(markdown)) {
    if (fenced) continue;
    for (const m of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Link targets outside code: Markdown links and images, `<img src>`, `<a href>`. */
export function linksOf(markdown: string): { target: string; line: number }[] {
  const found: { target: string; line: number }[] = [];
  for (const { number, text, fenced } of lines(markdown)) {
    if (fenced) continue;
    const prose = text.replace(/`[^`]*`/g, 'code');
    for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) found.push({ target: m[1]!, line: number });
    for (const m of prose.matchAll(/<(?:img|a)\s[^>]*?(?:src|href)="([^"]+)"/g)) found.push({ target: m[1]!, line: number });
  }
  return found;
}

/** Repository paths written as code: tokens of inline code spans and code blocks that start with one of `roots`. */
export function repoPathsOf(markdown: string, roots: string[]): { path: string; line: number }[] {
  const repoPath = new RegExp(`^(?:${roots.map((r) => r.replace(/[.]/g, '\\.')).join('|')})/[\\w./-]*$`);
  const found: { path: string; line: number }[] = [];
  for (const { number, text, fenced } of lines(markdown)) {
    const code = fenced ? [text] : [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    for (const span of code) {
      for (const raw of span.split(/[\s()[\],;"'=|]+/)) {
        const token = raw.replace(/[.:]+$/, '');
        if (repoPath.test(token) && !token.includes('..')) found.push({ path: token, line: number });
      }
    }
  }
  return found;
}

/** Every Markdown file under `root`, relative to it. */
export function markdownFiles(root: string, dir = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) files.push(...markdownFiles(root, rel));
    } else if (entry.name.endsWith('.md')) files.push(rel);
  }
  return files.sort();
}

/** Paths the root .gitignore names without wildcards (`infra/cdk/cdk.out/`): made by a command, absent from a clone. */
function generatedPaths(root: string): string[] {
  const ignore = path.join(root, '.gitignore');
  if (!existsSync(ignore)) return [];
  return readFileSync(ignore, 'utf8')
    .split('\n')
    .map((entry) => entry.trim().replace(/^\/|\/$/g, ''))
    .filter((entry) => entry.includes('/') && !/[*?[!#]/.test(entry));
}

/** The broken links, anchors and repository paths of `files` (relative to `root`). */
export function checkDocs(root: string, files: string[] = markdownFiles(root)): DocProblem[] {
  const problems: DocProblem[] = [];
  const generated = generatedPaths(root);
  const roots = repoRoots(root);
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    let set = anchorCache.get(file);
    if (!set) anchorCache.set(file, (set = anchorsOf(readFileSync(file, 'utf8'))));
    return set;
  };
  for (const file of files) {
    const absolute = path.join(root, file);
    const markdown = readFileSync(absolute, 'utf8');
    for (const { target, line } of linksOf(markdown)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const hash = target.indexOf('#');
      const linkPath = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
      const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const resolved = linkPath === '' ? absolute : path.resolve(path.dirname(absolute), linkPath);
      if (!resolved.startsWith(root + path.sep) && resolved !== root) {
        problems.push({ file, line, message: `link ${target} leaves the repository` });
      } else if (!existsSync(resolved)) {
        problems.push({ file, line, message: `link ${target}: ${path.relative(root, resolved)} does not exist` });
      } else if (anchor !== undefined) {
        if (statSync(resolved).isFile() && resolved.endsWith('.md')) {
          if (!anchors(resolved).has(anchor)) {
            problems.push({ file, line, message: `link ${target}: no heading #${anchor} in ${path.relative(root, resolved)}` });
          }
        } else if (!/^L\d+(-L\d+)?$/.test(anchor)) {
          problems.push({ file, line, message: `link ${target}: #${anchor} on a file that is not Markdown` });
        }
      }
    }
    // A design (docs/design/) names files still to be written and files as they were when it was measured.
    if (file.split(path.sep).join('/').startsWith('docs/design/')) continue;
    for (const { path: repoPath, line } of repoPathsOf(markdown, roots)) {
      if (generated.some((dir) => `${repoPath}/`.startsWith(`${dir}/`))) continue;
      if (!existsSync(path.join(root, repoPath))) problems.push({ file, line, message: `path ${repoPath} does not exist` });
    }
  }
  return problems;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '../..'));
  const problems = checkDocs(root);
  for (const p of problems) process.stdout.write(`${p.file}:${p.line}: ${p.message}\n`);
  process.stdout.write(problems.length === 0 ? 'docs links: all good\n' : `docs links: ${problems.length} problems\n`);
  process.exit(problems.length === 0 ? 0 : 1);
}
