// shardless merge-coverage (src/merge-coverage.ts): istanbul coverage JSON of several batches merged into
// one map whose hits are the sums, and a file that is not coverage JSON refused by name. The whole
// recipe, from the workers' batches on, is test/e2e/reports.test.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { MergeCoverageError, coverageFiles, mergeCoverageFiles, parseMergeCoverageArgs, writeCoverageReports } from '../src/cli/merge-coverage.js';

const root = mkdtempSync(join(tmpdir(), 'shardless-merge-coverage-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Coverage of /src/m.js (two functions, one statement each) with these hits. */
function coverage(f: [number, number]) {
  const loc = (line: number) => ({ start: { line, column: 0 }, end: { line, column: 10 } });
  return {
    '/src/m.js': {
      path: '/src/m.js', statementMap: { 0: loc(2), 1: loc(5) }, s: { 0: f[0], 1: f[1] },
      fnMap: { 0: { name: 'a', decl: loc(1), loc: loc(1), line: 1 }, 1: { name: 'b', decl: loc(4), loc: loc(4), line: 4 } }, f: { 0: f[0], 1: f[1] },
      branchMap: {}, b: {},
    },
  };
}

test('the batches’ files under a folder merge into one map: each hit counted once per batch that ran it', () => {
  const dir = join(root, 'reports');
  for (const [name, hits] of [['w1-batch-1/coverage-final.json', [1, 0]], ['w2-batch-2/coverage-final.json', [0, 2]], ['w2-batch-3/coverage-final.json', [1, 0]]] as const) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), JSON.stringify(coverage([...hits])));
  }
  const files = coverageFiles([dir]);
  expect(files).toHaveLength(3);
  const map = mergeCoverageFiles(files);
  expect(map.files()).toEqual(['/src/m.js']);
  expect(map.fileCoverageFor('/src/m.js').f).toEqual({ 0: 2, 1: 2 });
  const out = join(root, 'out');
  writeCoverageReports(map, out, ['json']);
  expect(JSON.parse(readFileSync(join(out, 'coverage-final.json'), 'utf8'))['/src/m.js'].s).toEqual({ 0: 2, 1: 2 });
});

test('a file that is not coverage JSON, or a path that is not there, is refused by name', () => {
  const bad = join(root, 'bad.json');
  writeFileSync(bad, '{"not": "coverage"}');
  expect(() => mergeCoverageFiles([bad])).toThrow(new MergeCoverageError(`${bad} is not istanbul coverage JSON (coverage-final.json: { "<file>": { path, statementMap, s, ... } })`));
  writeFileSync(bad, '{');
  expect(() => mergeCoverageFiles([bad])).toThrow(/bad\.json is not JSON/);
  expect(() => coverageFiles([join(root, 'nowhere')])).toThrow(/nowhere does not exist/);
});

test('arguments: --out, repeatable --reporter of istanbul’s names, paths; mistakes say what', () => {
  expect(parseMergeCoverageArgs(['r'])).toEqual({ out: 'coverage', reporters: ['json', 'lcov', 'text-summary'], paths: ['r'], help: false });
  expect(parseMergeCoverageArgs(['--out=c', '--reporter', 'html', '--reporter=cobertura', 'a', '--', '-b'])).toEqual({ out: 'c', reporters: ['html', 'cobertura'], paths: ['a', '-b'], help: false });
  expect(() => parseMergeCoverageArgs([])).toThrow(/no file or folder to merge/);
  expect(() => parseMergeCoverageArgs(['--reporter', 'pdf', 'a'])).toThrow("unknown --reporter 'pdf'");
  expect(() => parseMergeCoverageArgs(['--out'])).toThrow('--out needs a value');
  expect(() => parseMergeCoverageArgs(['--bogus', 'a'])).toThrow("unknown option '--bogus'");
});
