// Runner presets (src/presets/runners, gathered in presets.ts): what each lists, the command it renders
// for a batch, what it needs, and the JUnit its reporters write; and the `runner` input in inputs.ts and
// testlist.ts.
// test/e2e/presets.test.ts runs each preset for real.

import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { InputError, readInputs, type Getter } from '../src/action/inputs.js';
import { readJUnitFiles } from '../src/report/junit-read.js';
import { PRESETS, RUNNERS, checkNeeds, writeHelpers, type BatchContext, type PresetName } from '../src/presets/presets.js';
import { mochaKeepOnly } from '../src/presets/runners/mocha.js';
import { playwrightFiles } from '../src/presets/runners/playwright.js';
import { vitestExcludes } from '../src/presets/runners/vitest.js';
import { listTests } from '../src/presets/testlist.js';
import { runnerFoundNoTests } from '../src/worker/results.js';
import { ROOT } from './helpers/action.js';
import { MISSING, PYTHON_PATH, requireInstalled, skipMissing } from './helpers/toolchains.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'runners');

let wd: string;
beforeEach(() => {
  wd = mkdtempSync(join(tmpdir(), 'shardless-presets-'));
});
afterEach(() => {
  rmSync(wd, { recursive: true, force: true });
});

function touch(...paths: string[]): void {
  for (const p of paths) {
    mkdirSync(dirname(join(wd, p)), { recursive: true });
    writeFileSync(join(wd, p), '');
  }
}

const ctx = (tests: string[], cwd = wd, args: string[] = []): BatchContext => ({ tests, cwd, helperDir: '/h', args });
const render = (name: PresetName, tests: string[], cwd = wd, args: string[] = []) => PRESETS[name].command(ctx(tests, cwd, args));
describe('listTests with a runner: the runner lists (src/discovery; test/discovery.test.ts for configurations)', () => {
  const src = { tests: '', testsFile: '', testsCommand: '' };

  const suites: [PresetName, string[], () => string][] = [
    ['vitest', ['-dash.test.js', 'a.test.js', 'b-fail.test.js', 'data.test.js', 'sub/[id] a.test.js', 'sub/a.test.js'], () => ''],
    ['jest', ['-dash.test.js', 'a.test.js', 'b-fail.test.js', 'data.test.js', 'sub/b.test.js'], () => ''],
    ['mocha', ['test/a.js', 'test/b-fail.js', 'test/b.js', 'test/data.js'], () => ''],
    ['node-test', ['-dash.test.js', 'a.test.js', 'b-fail.test.js', 'data.test.js', 'sub/b.test.js'], () => ''],
    ['playwright', ['tests/a.spec.js', 'tests/b-fail.spec.js', 'tests/data.spec.js', 'tests/sub/b.spec.js'], () => ''],
    ['cucumber-js', ['features/a.feature', 'features/b-fail.feature', 'features/data.feature', 'features/sub/b.feature'], () => ''],
    ['pytest', ['-dash_test.py', 'tests/sub/test_b.py', 'tests/test_a.py', 'tests/test_b_fail.py', 'tests/test_data.py'], MISSING.pytest],
    ['go-test', ['example.com/fixture/a', 'example.com/fixture/data', 'example.com/fixture/fail', 'example.com/fixture/sub/b'], MISSING['go-test']],
    ['rspec', ['spec/a_spec.rb', 'spec/b_fail_spec.rb', 'spec/data_spec.rb', 'spec/sub/b_spec.rb'], MISSING.rspec],
  ];
  for (const [runner, ids, missingOf] of suites) {
    const missing = missingOf();
    test.skipIf(skipMissing(missing))(`${runner} lists the files of its fixture suite${missing ? ` (not installed: ${missing})` : ''}`, async () => {
      requireInstalled(runner, missing);
      const path = process.env.PATH;
      if (runner === 'pytest') process.env.PATH = PYTHON_PATH;
      try {
        expect(await listTests({ ...src, runner, workingDirectory: join(FIXTURES, runner) })).toEqual(ids);
      } finally {
        process.env.PATH = path;
      }
    }, 60_000);
  }

  test('every runner but custom has a preset', () => {
    expect(Object.keys(PRESETS).sort()).toEqual(RUNNERS.filter((r) => r !== 'custom').sort());
  });

  test('tests, tests-file or tests-command win over the preset', async () => {
    touch('list.txt');
    writeFileSync(join(wd, 'list.txt'), 'c\n');
    const base = { ...src, runner: 'vitest' as const, workingDirectory: wd };
    expect(await listTests({ ...base, tests: 'x' })).toEqual(['x']);
    expect(await listTests({ ...base, testsFile: 'list.txt' })).toEqual(['c']);
    expect(await listTests({ ...base, testsCommand: 'echo d' })).toEqual(['d']);
  });

  test('tests-command runs without the inputs and the Redis URL variables, which may hold the password', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { INPUT_REDIS_URL: 'redis://:pw@h:1', SHARDLESS_REDIS_URL: 'redis://:pw@h:2', REDIS_URL: 'redis://:pw@h:3', KEEP_ME: 'k' });
    try {
      const seen = await listTests({ ...src, runner: 'custom', workingDirectory: wd, testsCommand: 'env | cut -d= -f1 | grep -E "^(INPUT_|SHARDLESS_REDIS_URL$|REDIS_URL$|KEEP_ME$)" | sort' });
      expect(seen).toEqual(['KEEP_ME']);
    } finally {
      for (const k of ['INPUT_REDIS_URL', 'SHARDLESS_REDIS_URL', 'REDIS_URL', 'KEEP_ME']) if (saved[k] === undefined) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  test('a runner that cannot list fails, naming the runner and with its own words', async () => {
    const bin = join(wd, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'go'), '#!/bin/sh\necho "pattern ./...: directory prefix . does not contain main module" >&2\nexit 1\n');
    chmodSync(join(bin, 'go'), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      await expect(listTests({ ...src, runner: 'go-test', workingDirectory: wd })).rejects.toThrow(
        /^runner 'go-test' could not list the tests: go list .* exited with code 1:\npattern \.\/\.\.\.: directory prefix \. does not contain main module$/,
      );
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('the command of a batch', () => {
  test('vitest: excludes, by exact (escaped) path, every other file whose path holds a batch file’s name', () => {
    touch('a.test.ts', 'data.test.ts', 'sub/a.test.ts', 'sub/[x] A.TEST.TS', 'b.test.ts', 'node_modules/m/a.test.ts');
    expect(render('vitest', ['a.test.ts'])).toBe(
      "npx --no -- vitest run --reporter=default --reporter=junit --outputFile.junit={junit} --reporter='/h/vitest-costs.mjs' " +
        `--reporter=blob --outputFile.blob="$SHARDLESS_REPORTS_DIR/vitest/$SHARDLESS_REPORT_NAME.json" --exclude='data.test.ts' ` +
        "--exclude='sub/\\[x\\] A.TEST.TS' --exclude='sub/a.test.ts' 'a.test.ts' # files of {tests-file}",
    );
    // Files of the batch are never excluded; nothing to exclude: no option.
    expect(render('vitest', ['a.test.ts', 'sub/a.test.ts', 'data.test.ts', 'sub/[x] A.TEST.TS'])).toBe(
      "npx --no -- vitest run --reporter=default --reporter=junit --outputFile.junit={junit} --reporter='/h/vitest-costs.mjs' " +
        `--reporter=blob --outputFile.blob="$SHARDLESS_REPORTS_DIR/vitest/$SHARDLESS_REPORT_NAME.json" 'a.test.ts' 'sub/a.test.ts' 'data.test.ts' 'sub/[x] A.TEST.TS' # files of {tests-file}`,
    );
    expect(vitestExcludes(ctx(['b.test.ts']))).toBe('');
    // A file whose name starts with '-' is given as ./name: vitest drops what follows `--`.
    expect(render('vitest', ['-x.test.ts'])).toMatch(/ '\.\/-x\.test\.ts' # files of \{tests-file\}$/);
    // An id that is not a file (a folder) is a filter meant to select more: no exclusion at all.
    expect(vitestExcludes(ctx(['sub', 'a.test.ts']))).toBe('');
  });

  test('jest: paths, not regular expressions; our reporters; coverage JSON into reports-dir', () => {
    expect(render('jest', ['a.test.js'])).toBe(
      "npx --no -- jest --ci --reporters=default --reporters='/h/jest-junit.cjs' --reporters='/h/jest-costs.cjs' " +
        '--coverageReporters=json --coverageDirectory="$SHARDLESS_REPORTS_DIR/jest-coverage/$SHARDLESS_REPORT_NAME" --runTestsByPath -- {tests}',
    );
  });

  test('runner-args go after the runner’s command, each word shell-quoted', () => {
    const args = ['--project', 'unit*', "it's"];
    expect(render('vitest', ['b.test.ts'], wd, args)).toMatch(/^npx --no -- vitest run '--project' 'unit\*' 'it'\\''s' --reporter=default /);
    expect(render('jest', ['a.test.js'], wd, ['--config', 'scripts/jest/jest.config.js'])).toMatch(
      /^npx --no -- jest '--config' 'scripts\/jest\/jest.config.js' --ci /,
    );
    expect(render('go-test', ['example.com/m/a'], wd, ['-race'])).toBe("gotestsum --format=testname --junitfile={junit} -- '-race' {tests}");
    expect(render('pytest', ['t/test_a.py'], wd, ['-x'])).toMatch(/^python3 -m pytest '-x' --rootdir=\. /);
  });

  test('mocha: xunit to {junit}; an --ignore that keeps the batch’s files only', () => {
    expect(render('mocha', ['test/a.js', 'test/b.js'])).toBe(
      "npx --no -- mocha --reporter=xunit --reporter-option=output={junit} --ignore='!{test/a.js,test/b.js}' -- {tests}",
    );
    expect(mochaKeepOnly(['test/a.js'])).toBe('!test/a.js'); // {a} alone would not be a brace expansion
    expect(mochaKeepOnly(['t/a,b.js', 't/[x] {y}.js', 't/a.js', 't/a.js'])).toBe('!{t/a?b.js,t/?x? ?y?.js,t/a.js}');
  });

  test('node-test: spec on stdout, our junit reporter to {junit}', () => {
    expect(render('node-test', ['a.test.js'])).toBe(
      "node --test --test-reporter=spec --test-reporter-destination=stdout --test-reporter='/h/node-test-junit.mjs' --test-reporter-destination={junit} -- {tests}",
    );
  });

  test('playwright: anchored regular expressions of absolute paths; the ids are not appended; a blob report into reports-dir', () => {
    const cmd = render('playwright', ['tests/a.spec.ts', 'tests/x (1).spec.ts'], '/w');
    expect(cmd).toBe(
      'PLAYWRIGHT_BLOB_OUTPUT_FILE="$SHARDLESS_REPORTS_DIR/playwright/$SHARDLESS_REPORT_NAME.zip" ' +
      "npx --no -- playwright test --reporter=list,'/h/playwright-junit.mjs',blob '/^\\/w\\/tests\\/a\\.spec\\.ts$/' '/^\\/w\\/tests\\/x \\(1\\)\\.spec\\.ts$/' # files of {tests-file}",
    );
    // As playwright reads such an argument (forceRegExp): /.../ is a regular expression over absolute paths.
    const re = (arg: string) => new RegExp(/^\/(.*)\/([gi]*)$/.exec(arg)![1]);
    const [a] = playwrightFiles(ctx(['tests/a.spec.ts'], '/w')).split(' ').map((q) => q.slice(1, -1));
    expect(re(a).test('/w/tests/a.spec.ts')).toBe(true);
    expect(re(a).test('/w/tests/data.spec.ts')).toBe(false);
    expect(re(a).test('/w/tests/a.spec.tsx')).toBe(false);
    expect(re(a).test('/w/tests/aXspec.ts')).toBe(false);
  });

  test('cucumber-js: our plugin keeps the batch’s scenarios, our formatter writes {junit}', () => {
    expect(render('cucumber-js', ['features/a.feature'])).toBe(
      "npx --no -- cucumber-js --plugin='file:///h/cucumber-batch-only.mjs' --format=progress --format='\"/h/cucumber-junit.mjs\":\"'{junit}'\"' -- {tests}",
    );
  });

  test('pytest, go-test, rspec', () => {
    expect(render('pytest', ['t/test_a.py', '-x_test.py'])).toBe(
      "python3 -m pytest --rootdir=. -o junit_family=xunit1 --junitxml={junit} 't/test_a.py' './-x_test.py' # files of {tests-file}",
    );
    expect(render('go-test', ['example.com/m/a'])).toBe('gotestsum --format=testname --junitfile={junit} -- {tests}');
    expect(render('rspec', ['spec/a_spec.rb'])).toBe('rspec --format progress --format RspecJunitFormatter --out {junit} -- {tests}');
    touch('Gemfile');
    expect(render('rspec', ['spec/a_spec.rb'])).toBe('bundle exec rspec --format progress --format RspecJunitFormatter --out {junit} -- {tests}');
  });
});

describe('a batch in which the runner found no test', () => {
  const passed = (timed: boolean) => ({ outcome: 'passed' as const, durationMs: 5, message: '', ...(timed ? { timed } : {}) });

  test('its words fail the files without a JUnit result; the others keep theirs', () => {
    const results = new Map([['checks/a.check.js', passed(true)]]);
    const tail = ' RUN  v4\n\u001b[31mNo test files found, exiting with code 1\u001b[39m\n\nfilter: dist/t1.test.js\ninclude: checks/**/*.check.js\nexclude: **/node_modules/**\nmore\n';
    runnerFoundNoTests('vitest', tail, ['checks/a.check.js', 'dist/t1.test.js'], results);
    expect(Object.fromEntries(results)).toEqual({
      'checks/a.check.js': passed(true),
      'dist/t1.test.js': {
        outcome: 'failed', durationMs: 0,
        message: 'vitest found no test to run in dist/t1.test.js; it said:\nNo test files found, exiting with code 1\nfilter: dist/t1.test.js\ninclude: checks/**/*.check.js\nexclude: **/node_modules/**',
      },
    });
  });

  test('an exit 0 (jest with passWithNoTests) is no pass', () => {
    const results = new Map([['x.test.js', passed(false)]]);
    runnerFoundNoTests('jest', 'No tests found, exiting with code 0\n', ['x.test.js'], results);
    expect(results.get('x.test.js')).toMatchObject({ outcome: 'failed', durationMs: 5, message: expect.stringMatching(/^jest found no test to run in x\.test\.js; it said:\nNo tests found, exiting with code 0$/) });
  });

  test('without its words, nothing changes', () => {
    const results = new Map([['x.test.js', passed(false)]]);
    runnerFoundNoTests('jest', 'Tests: 1 passed\n', ['x.test.js', 'y.test.js'], results);
    runnerFoundNoTests('node-test', 'No tests found\n', ['x.test.js', 'y.test.js'], results); // no words known for node-test
    expect(Object.fromEntries(results)).toEqual({ 'x.test.js': passed(false) });
  });
});

describe('what a preset needs', () => {
  test('an npm package missing from the working directory and above: a message saying what to do', () => {
    expect(() => checkNeeds('jest', wd)).toThrow(
      `runner 'jest' needs the npm package 'jest', which is not installed in ${wd} or above (run 'npm ci', or 'npm install --save-dev jest'; or give the worker a 'command')`,
    );
    mkdirSync(join(wd, 'node_modules', 'jest'), { recursive: true });
    writeFileSync(join(wd, 'node_modules', 'jest', 'package.json'), '{}');
    mkdirSync(join(wd, 'pkg'));
    expect(() => checkNeeds('jest', join(wd, 'pkg'))).not.toThrow();
    // The fixture suites find this repository's packages.
    expect(() => checkNeeds('playwright', join(FIXTURES, 'playwright'))).not.toThrow();
  });

  test('a program missing from the PATH', () => {
    expect(() => checkNeeds('go-test', wd, { PATH: wd })).toThrow(/^runner 'go-test' needs 'go' on the PATH/);
    writeFileSync(join(wd, 'go'), '');
    expect(() => checkNeeds('go-test', wd, { PATH: wd })).toThrow(/^runner 'go-test' needs 'gotestsum' on the PATH, which is not there \(it writes the JUnit XML/);
    expect(() => checkNeeds('node-test', wd, { PATH: '' })).not.toThrow();
  });
});

describe('our reporters’ JUnit', () => {
  test('names each testcase’s file, which src/report/junit-read.ts maps to the ids; escapes and strips what XML cannot hold', () => {
    writeHelpers('jest', wd);
    const { toJUnit } = createRequire(import.meta.url)(join(wd, 'junit.cjs')) as { toJUnit: (cases: object[]) => string };
    const xml = toJUnit([
      { file: join(wd, 'a.test.js'), name: 'passes <&>', seconds: 0.25, outcome: 'passed' },
      { file: join(wd, 'a.test.js'), name: 'fails', seconds: 0.5, outcome: 'failed', message: '\n\u001b[31mexpected "1" to be 2\u001b[39m\u0000\nat a.test.js:3' },
      { file: 'sub/b.test.js', name: 'skipped', seconds: 0, outcome: 'skipped' },
      { file: 'c d.test.js', name: 'passes', outcome: 'passed' },
    ]);
    writeFileSync(join(wd, 'junit.xml'), xml);
    const { results, warnings } = readJUnitFiles([join(wd, 'junit.xml')], ['a.test.js', 'sub/b.test.js', 'c d.test.js', 'none.test.js'], wd);
    expect(warnings).toEqual([]);
    expect(Object.fromEntries(results)).toEqual({
      'a.test.js': expect.objectContaining({ outcome: 'failed', durationMs: 750, message: 'expected "1" to be 2\nat a.test.js:3', file: 'a.test.js' }),
      'sub/b.test.js': expect.objectContaining({ outcome: 'skipped' }),
      'c d.test.js': expect.objectContaining({ outcome: 'passed' }),
    });
  });

  test('the worker writes each preset’s helpers, and nothing for those that have none', () => {
    for (const name of Object.keys(PRESETS) as PresetName[]) {
      const dir = join(wd, name);
      writeHelpers(name, dir);
      for (const f of PRESETS[name].helpers ?? []) expect(readFileSync(join(dir, f), 'utf8')).toContain('Written by shardless');
      if (PRESETS[name].warm) expect(PRESETS[name].helpers).toContain(PRESETS[name].warm);
    }
    expect(PRESETS.pytest.helpers).toBeUndefined();
  });
});

describe('the runner input', () => {
  const inputs = (values: Record<string, string>): Getter => (name) => values[name] ?? '';
  const common = { 'redis-url': 'redis://127.0.0.1:6379', 'run-id': 'r' };

  test('read in both modes; custom by default', () => {
    expect(readInputs(inputs({ ...common, mode: 'controller', runner: 'Vitest' }), {})).toMatchObject({ runner: 'vitest' });
    expect(readInputs(inputs({ ...common, mode: 'controller' }), {})).toMatchObject({ runner: 'custom' });
    expect(readInputs(inputs({ ...common, mode: 'worker', runner: 'pytest' }), {})).toMatchObject({ runner: 'pytest', command: '' });
  });

  test('a worker needs a command or a preset; an unknown runner is named', () => {
    expect(() => readInputs(inputs({ ...common, mode: 'worker' }), {})).toThrow(
      new InputError("Input 'command' is required in worker mode (or a 'runner' other than custom)"),
    );
    expect(readInputs(inputs({ ...common, mode: 'worker', runner: 'jest', command: 'make test' }), {})).toMatchObject({ command: 'make test' });
    expect(() => readInputs(inputs({ ...common, mode: 'controller', runner: 'ava' }), {})).toThrow(
      "Input 'runner' must be one of custom, vitest, jest, mocha, node-test, playwright, cucumber-js, pytest, go-test, rspec, got 'ava'",
    );
  });
});
