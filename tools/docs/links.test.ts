import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { anchorsOf, checkDocs, linksOf, repoPathsOf, slug } from './links.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the docs of this repository', () => {
  it('have no broken relative link, anchor or repository path', () => {
    const problems = checkDocs(ROOT).map((p) => `${p.file}:${p.line}: ${p.message}`);
    expect(problems).toEqual([]);
  });
});

describe('slug', () => {
  it('is GitHub’s heading anchor', () => {
    expect(slug('Resumable uploads (tus 1.0)')).toBe('resumable-uploads-tus-10');
    expect(slug('Realtime: `GET /v1/events`')).toBe('realtime-get-v1events');
    expect(slug('Will my files work? `npm run conformance -- DIR`')).toBe('will-my-files-work-npm-run-conformance----dir');
    expect(slug('Scoped tokens for browsers and apps')).toBe('scoped-tokens-for-browsers-and-apps');
    expect(slug('With the CDK app (`infra/cdk/`)')).toBe('with-the-cdk-app-infracdk');
    expect(slug('**REELAY_X264_PRESET** and [links](x.md)')).toBe('reelay_x264_preset-and-links');
  });
});

describe('anchorsOf', () => {
  it('numbers repeated headings and ignores headings in code blocks', () => {
    const md = ['# A', '## Notes', '```sh', '# not a heading', '```', '## Notes', '<a id="kept"></a>'].join('\n');
    expect([...anchorsOf(md)]).toEqual(['a', 'notes', 'notes-1', 'kept']);
  });
});

describe('linksOf and repoPathsOf', () => {
  it('finds links outside code, and paths in code', () => {
    const md = [
      'See [the API](docs/http-api.md#errors), ![shot](api/web/x.png) and <img src="a.png" width="4">.',
      'Not a link: `[x](nowhere.md)`; a path: `node api/main.ts`, `workers/transcode/`.',
      '```sh',
      'docker compose -f localstack/docker-compose.yml up   # [y](ignored.md)',
      '```',
      'Placeholders are not paths: `bench/results/<date>.json`, `tus/<id>.parts/<n>`.',
    ].join('\n');
    expect(linksOf(md).map((l) => l.target)).toEqual(['docs/http-api.md#errors', 'api/web/x.png', 'a.png']);
    expect(repoPathsOf(md, ['api', 'workers', 'localstack', 'bench']).map((p) => p.path)).toEqual([
      'api/main.ts',
      'workers/transcode/',
      'localstack/docker-compose.yml',
    ]);
  });
});

describe('checkDocs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'reelay-docs-links-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a missing file, a missing anchor, a missing path; passes good ones', () => {
    mkdirSync(path.join(dir, 'docs'));
    mkdirSync(path.join(dir, 'api'));
    writeFileSync(path.join(dir, 'api', 'main.ts'), '');
    writeFileSync(path.join(dir, '.gitignore'), 'infra/cdk/cdk.out/\n');
    writeFileSync(path.join(dir, 'docs', 'a.md'), '# A\n## Part one\n[back](../README.md#top) [self](#part-one)\n');
    writeFileSync(
      path.join(dir, 'README.md'),
      [
        '# Top',
        '[ok](docs/a.md#part-one) [no file](docs/b.md) [no anchor](docs/a.md#part-two) [here](#nowhere)',
        '`api/main.ts` is there, `api/gone.ts` is not; `infra/cdk/cdk.out` is made by a command.',
      ].join('\n'),
    );
    expect(checkDocs(dir).map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual([
      'README.md:2: link docs/b.md: docs/b.md does not exist',
      'README.md:2: link docs/a.md#part-two: no heading #part-two in docs/a.md',
      'README.md:2: link #nowhere: no heading #nowhere in README.md',
      'README.md:3: path api/gone.ts does not exist',
    ]);
  });
});
