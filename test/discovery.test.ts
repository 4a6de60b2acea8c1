// Discovery (src/discovery): the runner itself lists the tests, in the user's configuration, working
// directory and runner args. Each runner lists a real project of its own (test/fixtures/runners/
// configured/<runner>) whose configuration is not the runner's default, with a failing test that a
// default listing would leave out (and, mostly, a file it would wrongly seed).

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { discoverTests, DiscoveryError } from '../src/presets/discovery/index.js';
import { goTags } from '../src/presets/discovery/go.js';
import { nodeTestMatcher } from '../src/presets/discovery/node-test.js';
import { pytestFiles } from '../src/presets/discovery/pytest.js';
import { fileIds } from '../src/presets/discovery/run.js';
import type { PresetName } from '../src/presets/presets.js';
import { ROOT } from './helpers/action.js';
import { MISSING, PYTHON_PATH, requireInstalled, skipMissing } from './helpers/toolchains.js';

const CONFIGURED = join(ROOT, 'test', 'fixtures', 'runners', 'configured');

/** Whether the `node` on the PATH runs TypeScript test files by default (it strips types). */
const nodeStripsTypes = spawnSync('node', ['-p', 'Boolean(process.features.typescript)'], { encoding: 'utf8' }).stdout.trim() === 'true';

interface Case {
  runner: PresetName;
  args?: string[];
  /** What the runner lists; the failing test's file among them. */
  ids: string[];
  missing?: () => string;
  path?: string;
}

const CASES: Case[] = [
  // include: ['checks/**/*.check.js'] (not dist/t1.test.js)
  { runner: 'vitest', ids: ['checks/a.check.js', 'checks/unit/deep.check.js'] },
  // --config elsewhere, with rootDir, roots and testMatch (not other/c.test.js)
  { runner: 'jest', args: ['--config', 'config/jest.config.js'], ids: ['src/a.check.js', 'src/deep/b.check.js'] },
  // .mocharc.json spec specs/**/*.spec.js and ignore specs/skip/** (and no test/ folder)
  { runner: 'mocha', ids: ['specs/top.spec.js', 'specs/unit/deep.spec.js'] },
  // Node's defaults for the Node in use: .mts where it strips types; never __tests__/d.js
  { runner: 'node-test', ids: ['checks/a.test.mjs', ...(nodeStripsTypes ? ['checks/b.test.mts'] : []), 'lib/test/c.mjs'] },
  // --config e2e/playwright.config.js: testDir ./specs beside it, testMatch **/*.check.js, two projects
  { runner: 'playwright', args: ['--config', 'e2e/playwright.config.js'], ids: ['e2e/specs/a.check.js', 'e2e/specs/deep/b.check.js'] },
  // cucumber.js paths specs/**/*.feature (not features/ignored.feature)
  { runner: 'cucumber-js', ids: ['specs/a.feature', 'specs/deep/b.feature'] },
  // pytest.ini python_files = check_*.py, testpaths = tests
  { runner: 'pytest', ids: ['tests/check_a.py', 'tests/sub/check_c.py'], missing: MISSING.pytest, path: PYTHON_PATH },
  // the failing package's only test file has a build tag: -tags=integration reaches go list
  { runner: 'go-test', args: ['-count=1', '-tags=integration'], ids: ['example.com/configured/a', 'example.com/configured/integ'], missing: MISSING['go-test'] },
  // .rspec --default-path checks --pattern **/*_check.rb (not spec/x_spec.rb)
  { runner: 'rspec', ids: ['checks/a_check.rb', 'checks/deep/b_check.rb'], missing: MISSING.rspec },
];

/** Runs `fn` with PATH set to `path` (when given). */
async function withPath<T>(path: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  if (path) process.env.PATH = path;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}

describe('each runner lists its own configuration’s tests', () => {
  for (const c of CASES) {
    const missing = c.missing?.() ?? '';
    test.skipIf(skipMissing(missing))(`${c.runner}${missing ? ` (not installed: ${missing})` : ''}`, async () => {
      requireInstalled(c.runner, missing);
      const ids = await withPath(c.path, () => discoverTests(c.runner, join(CONFIGURED, c.runner), c.args ?? []));
      expect(ids).toEqual(c.ids);
    }, 60_000);
  }
});

// Under the repository (its .tmp/ is ignored by git), where the npm runners are installed.
let wd: string;
beforeEach(() => {
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  wd = mkdtempSync(join(ROOT, '.tmp', 'discovery-'));
});
afterEach(() => {
  rmSync(wd, { recursive: true, force: true });
});

describe('when the runner cannot list', () => {
  test('a configuration error fails with the runner named and its own words', async () => {
    writeFileSync(join(wd, 'package.json'), '{ "private": true }');
    writeFileSync(join(wd, '.mocharc.json'), '{ "spec": [');
    const err = await discoverTests('mocha', wd).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscoveryError);
    expect((err as Error).message).toMatch(/^runner 'mocha' could not list the tests: node .*list-mocha\.cjs exited with code 1:\n/);
    expect((err as Error).message).toContain('.mocharc.json'); // mocha's own error names its file
  });

  test('a runner that lists nothing fails, naming it and the folder', async () => {
    writeFileSync(join(wd, 'package.json'), '{ "private": true }');
    await expect(discoverTests('mocha', wd)).rejects.toThrow(`runner 'mocha' lists no test in ${wd}`);
  });

  test('a runner that is not installed: its listing’s own error', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'shardless-no-mocha-'));
    try {
      await expect(discoverTests('mocha', elsewhere)).rejects.toThrow(
        /^runner 'mocha' could not list the tests: .* exited with code 1:\nthe npm package mocha is not installed in .*shardless-no-mocha-\w+ or above$/,
      );
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
    const bin = join(wd, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'go'), '#!/bin/sh\necho "go: cannot find main module" >&2\nexit 3\n');
    chmodSync(join(bin, 'go'), 0o755);
    await expect(withPath(`${bin}:${process.env.PATH}`, () => discoverTests('go-test', wd))).rejects.toThrow(
      /^runner 'go-test' could not list the tests: go list -f .* \.\/\.\.\. exited with code 3:\ngo: cannot find main module$/,
    );
    await expect(withPath(bin, () => discoverTests('pytest', wd))).rejects.toThrow(/^runner 'pytest' could not list the tests: python3 -m pytest .* did not start/);
  });
});

describe('the pieces', () => {
  test('ids: relative to the working directory, / separated, deduplicated, sorted', () => {
    expect(fileIds('/w', ['/w/b.js', 'a.js', '/w/sub/c.js', '/w/a.js'])).toEqual(['a.js', 'b.js', 'sub/c.js']);
    expect(fileIds('/w', ['x.spec.js', 'sub/y.spec.js'], '/w/e2e')).toEqual(['e2e/sub/y.spec.js', 'e2e/x.spec.js']);
  });

  test('pytest: the files of -qq’s counts or -q’s node ids, up to the summary', () => {
    expect(pytestFiles('tests/a.py: 2\ntests/sub/b.py: 1\n\n3 tests collected\n')).toEqual(['tests/a.py', 'tests/sub/b.py']);
    expect(pytestFiles('t/a.py::test_x\nt/a.py::C::test_y[1-2]\n\nt/z.py::test_w: warning\n')).toEqual(['t/a.py', 't/a.py']);
  });

  test('go-test: only build tags reach go list', () => {
    expect(goTags(['-count=1', '-tags=a,b', '-race', '-tags', 'c', '-run', 'X'])).toEqual(['-tags=a,b', '-tags', 'c']);
  });

  test('node-test: Node’s default patterns, with TypeScript where Node strips types', () => {
    const yes = ['a.test.js', 'b-test.mjs', 'c_test.cjs', 'test-d.js', 'test.js', 'test/e.js', 'x/test/y/f.mjs', '.hid/g.test.js'];
    const no = ['a.js', 'tests/b.js', '__tests__/c.js', 'a.test.jsx'];
    const ts = ['a.test.ts', 'b-test.mts', 'test/c.cts'];
    for (const p of yes) expect(nodeTestMatcher(false)(p), p).toBe(true);
    for (const p of [...no, ...ts]) expect(nodeTestMatcher(false)(p), p).toBe(false);
    for (const p of [...yes, ...ts]) expect(nodeTestMatcher(true)(p), p).toBe(true);
    for (const p of no) expect(nodeTestMatcher(true)(p), p).toBe(false);
  });
});
