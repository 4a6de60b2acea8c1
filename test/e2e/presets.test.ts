// End-to-end: runner presets. For each runner installed here, the bundled action runs a small real suite
// (test/fixtures/runners/<runner>) with one controller and 2 workers given only `runner` (no tests, no
// command). The report must hold each file once with its status, and every batch must have run exactly
// its own files: each fixture file logs "<batch>\t<its id>" to $FIXTURE_LOG when it runs.
//
// The suites set traps: vitest takes file arguments as substring filters and playwright as regular
// expressions (a.test.js also selects data.test.js), mocha and cucumber-js add their configuration's
// spec/paths to the files given, playwright names files relative to its testDir, and a file whose name
// starts with `-` (where the runner lists one as an id) must not reach the runner as an option.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { ROOT, tempDir } from '../helpers/action.js';
import { MISSING, PYTHON_PATH, requireInstalled, skipMissing } from '../helpers/toolchains.js';
import { Scenario, checkReport, waitFor, type Report, useRedisServer } from './harness.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'runners');

interface Suite {
  runner: string;
  /** Test ids the preset lists, the failing one first. */
  ids: string[];
  /** Why it cannot run here ('' when it can). */
  missing: () => string;
  env?: Record<string, string>;
  /** batch-size (default 2): the runners' start cost is high, so few batches, but more than one. */
  batchSize?: number;
  /** A file, and files whose paths hold its name, that must have run in other batches than its own. */
  trap?: { id: string; others: string[] };
}

const SUITES: Suite[] = [
  {
    runner: 'vitest',
    ids: ['b-fail.test.js', '-dash.test.js', 'a.test.js', 'data.test.js', 'sub/[id] a.test.js', 'sub/a.test.js'],
    missing: () => '',
    batchSize: 3,
    trap: { id: 'a.test.js', others: ['data.test.js', 'sub/[id] a.test.js', 'sub/a.test.js'] },
  },
  {
    runner: 'jest',
    ids: ['b-fail.test.js', '-dash.test.js', 'a.test.js', 'data.test.js', 'sub/b.test.js'],
    missing: () => '',
    trap: { id: 'a.test.js', others: ['data.test.js'] },
  },
  { runner: 'mocha', ids: ['test/b-fail.js', 'test/a.js', 'test/b.js', 'test/data.js'], missing: () => '' },
  { runner: 'node-test', ids: ['b-fail.test.js', '-dash.test.js', 'a.test.js', 'data.test.js', 'sub/b.test.js'], missing: () => '' },
  {
    runner: 'playwright',
    ids: ['tests/b-fail.spec.js', 'tests/a.spec.js', 'tests/data.spec.js', 'tests/sub/b.spec.js'],
    missing: () => '',
    trap: { id: 'tests/a.spec.js', others: ['tests/data.spec.js'] },
  },
  {
    runner: 'cucumber-js',
    ids: ['features/b-fail.feature', 'features/a.feature', 'features/data.feature', 'features/sub/b.feature'],
    missing: () => '',
  },
  {
    runner: 'pytest',
    ids: ['tests/test_b_fail.py', '-dash_test.py', 'tests/sub/test_b.py', 'tests/test_a.py', 'tests/test_data.py'],
    missing: MISSING.pytest,
    // Nothing written into the fixture folder.
    env: { PYTEST_ADDOPTS: '-p no:cacheprovider', PYTHONDONTWRITEBYTECODE: '1', PATH: PYTHON_PATH },
  },
  {
    runner: 'go-test',
    ids: ['example.com/fixture/fail', 'example.com/fixture/a', 'example.com/fixture/data', 'example.com/fixture/sub/b'],
    missing: MISSING['go-test'],
    // Cached results would not run TestMain, which logs.
    env: { GOFLAGS: '-count=1' },
  },
  {
    runner: 'rspec',
    ids: ['spec/b_fail_spec.rb', 'spec/a_spec.rb', 'spec/data_spec.rb', 'spec/sub/b_spec.rb'],
    missing: MISSING.rspec,
  },
];

let redis: RedisServer;
useRedisServer((server) => (redis = server));

/** Batch id -> the ids its run logged, from the fixture log. */
function logged(file: string): Map<string, string[]> {
  const byBatch = new Map<string, string[]>();
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  for (const line of text.split('\n').filter(Boolean)) {
    const [batch, id] = line.split('\t');
    byBatch.set(batch, [...(byBatch.get(batch) ?? []), id]);
  }
  return byBatch;
}

/** Batch id -> the ids the report says it ran. */
function reported(report: Report): Map<string, string[]> {
  const byBatch = new Map<string, string[]>();
  for (const t of report.tests) for (const r of t.runs) byBatch.set(r.batch, [...(byBatch.get(r.batch) ?? []), t.id]);
  return byBatch;
}

const sorted = (m: Map<string, string[]>) => Object.fromEntries([...m].map(([b, ids]) => [b, [...ids].sort()]).sort());

// A developer's machine may lack a toolchain (the test is skipped, saying which); CI installs them all
// (.ci/run), so under CI=true a missing one fails the test with the same message (helpers/toolchains.ts).

for (const suite of SUITES) {
  const missing = suite.missing();
  test.skipIf(skipMissing(missing))(`runner ${suite.runner}${missing ? ` (not installed: ${missing})` : ''}: 2 workers run exactly their batches' files; one fails`, async () => {
    requireInstalled(suite.runner, missing);
    const s = new Scenario(redis, suite.runner);
    const log = join(s.dir, 'fixture.log');
    const dir = join(FIXTURES, suite.runner);
    const env = { FIXTURE_LOG: log, ...suite.env };
    // Without timings the queue keeps the listing's (sorted) order: batches of consecutive files. A long
    // heartbeat-ttl: a runner's start may load both cores, and no worker is meant to be presumed dead.
    const inputs = {
      runner: suite.runner, 'working-directory': dir, 'batch-size': String(suite.batchSize ?? 2), timings: 'false', 'heartbeat-ttl': '20',
    };
    const controller = s.controller([], inputs);
    for (const id of ['w1', 'w2']) s.worker(id, { runner: suite.runner, 'working-directory': dir, command: '' }, env);

    await waitFor('the controller to exit', () => controller.exit, 90_000, 100);
    await s.allExited(15_000);

    const [failing, ...passing] = suite.ids;
    expect(controller.exit).toEqual({ code: 1, signal: null });
    const report = s.report();
    checkReport(report, s, suite.ids);
    expect(report.counts).toMatchObject({ total: suite.ids.length, passed: passing.length, failed: 1, lost: 0, notRun: 0 });
    for (const t of report.tests) {
      expect(t.status, t.id).toBe(t.id === failing ? 'failed' : 'passed');
      expect(t.runs, t.id).toHaveLength(1); // one run, from JUnit: no split, no retry
    }
    expect(s.test(report, failing).runs[0].message).not.toBe('');

    // Each file ran once, in the batch that held it, and no batch ran another's files.
    const runs = logged(log);
    expect(sorted(runs)).toEqual(sorted(reported(report)));
    expect([...runs.values()].flat().sort()).toEqual([...suite.ids].sort());
    expect(runs.size).toBeGreaterThan(1);
    if (suite.trap) {
      // The trap was set: some file that the runner's own matching would add to that batch was elsewhere.
      const batchOf = (id: string) => s.test(report, id).runs[0].batch;
      expect(suite.trap.others.filter((o) => batchOf(o) !== batchOf(suite.trap!.id))).not.toEqual([]);
    }
  }, 120_000);
}

const CONFIGURED = join(FIXTURES, 'configured');

test('runner mocha lists by its .mocharc.json (spec specs/**/*.spec.js, an ignore, no test/ folder): the failing deep spec runs, the run is red', async () => {
  const s = new Scenario(redis, 'preset-configured');
  const dir = join(CONFIGURED, 'mocha');
  const controller = s.controller([], { runner: 'mocha', 'working-directory': dir, timings: 'false', 'heartbeat-ttl': '20' });
  s.worker('w1', { runner: 'mocha', 'working-directory': dir, command: '' });
  await waitFor('the controller to exit', () => controller.exit, 90_000, 100);
  await s.allExited(15_000);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  const report = s.report();
  expect(report.tests.map((t) => [t.id, t.status])).toEqual([['specs/top.spec.js', 'passed'], ['specs/unit/deep.spec.js', 'failed']]);
}, 120_000);

test('a runner that cannot list fails the controller, naming it, with its own words', async () => {
  const s = new Scenario(redis, 'preset-cannot-list');
  const empty = tempDir('shardless-no-vitest-');
  const controller = s.controller([], { runner: 'vitest', 'working-directory': empty });
  await waitFor('the controller to exit', () => controller.exit, 60_000, 100);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  expect(controller.output()).toMatch(/::error::runner 'vitest' could not list the tests: npx --no -- vitest list --filesOnly --json=\S+ exited with code 1:%0A\S/);
}, 90_000);

test('a file the runner finds no test in (vitest, outside its include) fails with its words; the batch’s other file keeps its result', async () => {
  const s = new Scenario(redis, 'preset-no-tests');
  const dir = join(CONFIGURED, 'vitest');
  const ids = ['checks/a.check.js', 'dist/t1.test.js'];
  const controller = s.controller(ids, { 'working-directory': dir, 'batch-size': '2', timings: 'false', 'heartbeat-ttl': '20' });
  s.worker('w1', { runner: 'vitest', 'working-directory': dir, command: '' }, { FIXTURE_LOG: join(s.dir, 'fixture.log') });
  await waitFor('the controller to exit', () => controller.exit, 90_000, 100);
  await s.allExited(15_000);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  const report = s.report();
  expect(report.counts).toMatchObject({ total: 2, passed: 1, failed: 1, lost: 0 });
  expect(s.test(report, 'checks/a.check.js')).toMatchObject({ status: 'passed', runs: [{ outcome: 'passed' }] });
  const t1 = s.test(report, 'dist/t1.test.js');
  expect(t1.status).toBe('failed');
  // The warm runner says so in its batch; a cold run alone (vitest saying nothing when it ran another file
  // too) would give vitest's words: 'it said: No test files found, exiting with code 1'.
  expect(t1.runs.at(-1)!.message).toMatch(
    /^vitest found no test to run in dist\/t1\.test\.js; (it said:\nNo test files found, exiting with code 1\n|it is not a test file of the vitest configuration)/,
  );
  expect(t1.runs.length).toBeLessThanOrEqual(2);
}, 120_000);

test('a worker whose runner is not installed there exits 1 at once, saying what to install', async () => {
  const s = new Scenario(redis, 'preset-missing');
  const empty = tempDir('shardless-no-jest-');
  const w = s.worker('w1', { runner: 'jest', 'working-directory': empty, command: '' });
  await waitFor('the worker to exit', () => w.exit, 20_000, 100);
  expect(w.exit).toEqual({ code: 1, signal: null });
  expect(w.output()).toContain(`::error::runner 'jest' needs the npm package 'jest', which is not installed in ${empty} or above`);
});
