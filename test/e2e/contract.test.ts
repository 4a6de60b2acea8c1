// End-to-end: the README's promises about what goes in and what comes out, each on the bundled action.
// The three test sources combined, a batch too large for the environment, a command that writes only to
// $SHARDLESS_JUNIT, the annotations and the summary's size cap, timings-file, the default report path.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { type ActionRun, ROOT, shq } from '../helpers/action.js';
import { Scenario, checkReport, lastLine, useRedisServer, waitFor } from './harness.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server), { everyKeyExpires: true });

const ENV_RUNNER = join(ROOT, 'test', 'fixtures', 'env-junit-runner.mjs');

async function finish(s: Scenario, controller: ActionRun, ms = 60_000): Promise<void> {
  await waitFor('the controller to exit', () => controller.exit, ms, 100);
  await s.allExited(15_000);
}

/** A worker running test/fixtures/env-junit-runner.mjs, which records what it saw in `out`. */
function envRunnerWorker(s: Scenario, id: string, out: string, messageBytes = 100): ActionRun {
  mkdirSync(out, { recursive: true });
  return s.worker(id, { command: `${shq(process.execPath)} ${shq(ENV_RUNNER)}` }, { ENV_RUNNER_OUT: out, ENV_RUNNER_MESSAGE_BYTES: String(messageBytes) });
}

const batchSeen = (out: string, batch: string) =>
  JSON.parse(readFileSync(join(out, `batch-${batch}.json`), 'utf8')) as { testsSet: boolean; attempt: string; isolated: string; ids: string[] };

test('tests, tests-file and tests-command together: combined in that order, duplicates dropped', async () => {
  const s = new Scenario(redis, 'sources');
  const file = join(s.dir, 'tests.txt');
  writeFileSync(file, 'src/pass-b\nsrc/pass-c\nsrc/pass-b\n');
  const controller = s.controller(['src/pass-a', 'src/pass-b'], {
    'tests-file': file,
    'tests-command': "printf 'src/pass-c\\nsrc/pass-d\\nsrc/pass-a\\n'",
    'batch-size': '10',
    timings: 'false',
  });
  s.worker('w1');
  await finish(s, controller);
  expect(controller.exit, controller.output()).toEqual({ code: 0, signal: null });
  const seeded = ['src/pass-a', 'src/pass-b', 'src/pass-c', 'src/pass-d'];
  checkReport(s.report(), s, seeded);
  expect(controller.output()).toContain(`${seeded.length} tests,`);
  // One batch (timings off: the listing's order), each id once.
  expect(s.events().runners.map((r) => r.ids)).toEqual([seeded]);
});

test('a batch whose ids exceed 128 KiB: SHARDLESS_TESTS is left unset, the ids are in SHARDLESS_TESTS_FILE, and results written only to $SHARDLESS_JUNIT count', async () => {
  const s = new Scenario(redis, 'bigbatch');
  // 300 ids of about 480 bytes: 144 KB newline-separated, over Linux's 128 KiB for one environment string.
  const ids = Array.from({ length: 300 }, (_, i) => `big/${i === 7 ? 'fail' : 'pass'}-${String(i).padStart(3, '0')}-${'n'.repeat(470)}`);
  expect(Buffer.byteLength(ids.join('\n'))).toBeGreaterThan(128 * 1024);
  const file = join(s.dir, 'tests.txt');
  writeFileSync(file, `${ids.join('\n')}\n`);
  const controller = s.controller([], { tests: '', 'tests-file': file, 'batch-size': '300', retries: '1', timings: 'false' });
  const out = join(s.dir, 'seen');
  const worker = envRunnerWorker(s, 'w1', out);
  await finish(s, controller);
  const first = batchSeen(out, '1');
  expect(first.testsSet, 'SHARDLESS_TESTS set').toBe(false);
  expect(first.ids).toEqual(ids);
  expect(first).toMatchObject({ attempt: '1', isolated: 'false' });
  expect(worker.output()).toContain('shardless: SHARDLESS_TESTS too large for the environment, left unset; use SHARDLESS_TESTS_FILE');
  // The command exited 0 and wrote no {junit}: the failure is known from $SHARDLESS_JUNIT alone. Its retry
  // runs alone as the test's second run (SHARDLESS_ATTEMPT 2), and the small batch has SHARDLESS_TESTS.
  const retry = batchSeen(out, '2');
  expect(retry).toMatchObject({ testsSet: true, attempt: '2', isolated: 'true', ids: [ids[7]] });
  const report = s.report();
  checkReport(report, s, ids);
  expect(report.counts).toMatchObject({ passed: 299, failed: 1 });
  expect(s.test(report, ids[7]).runs.map((r) => r.outcome)).toEqual(['failed', 'failed']);
  expect(controller.exit).toEqual({ code: 1, signal: null });
});

test('annotations and the summary cap as the controller emits them: 9 errors and a notice; a summary under 1,000,000 bytes that says what it left out', async () => {
  const s = new Scenario(redis, 'bigsummary');
  // 600 failures whose messages keep 2,000 characters each (what src/report/junit-read.ts keeps of a JUnit message):
  // about 1.3 MB of summary uncut.
  const ids = Array.from({ length: 600 }, (_, i) => `sum/fail-${String(i).padStart(3, '0')}`);
  const controller = s.controller(ids, { 'batch-size': '200', timings: 'false' });
  envRunnerWorker(s, 'w1', join(s.dir, 'seen'), 4_000);
  await finish(s, controller);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  const report = s.report();
  checkReport(report, s, ids);
  expect(report.counts.failed).toBe(600);
  for (const t of report.tests) expect(t.runs[0].message.length, t.id).toBeGreaterThanOrEqual(1_900);

  const lines = controller.output().split('\n');
  const errors = lines.filter((l) => l.startsWith('::error title=shardless%3A sum/fail-'));
  expect(errors, 'one error annotation per failed test, at most 9').toHaveLength(9);
  expect(lines.filter((l) => l.startsWith('::notice ')).join('\n')).toContain('shardless: 591 failed tests are not annotated here');
  expect(lastLine(controller.output())).toMatch(/^::error::600 tests failed: sum\/fail-000, /);

  const summary = controller.summary();
  expect(Buffer.byteLength(summary), 'summary bytes').toBeLessThanOrEqual(1_000_000);
  expect(Buffer.byteLength(summary), 'the summary was filled, not emptied').toBeGreaterThan(500_000);
  expect(summary).toMatch(/\n_…and \d+ more failed tests not shown\._\n/);
  expect(summary).toContain('| 600 | 0 | 600 | 0 | 0 | 0 | 0 |');
});

test('timings-file: a first run of a queue is ordered by the times of an earlier JUnit report, longest first', async () => {
  const s = new Scenario(redis, 'timingsfile');
  const dir = join(s.dir, 'artifact');
  mkdirSync(dir);
  const times: Record<string, number> = { 'tf/pass-a': 0.2, 'tf/pass-b': 9, 'tf/pass-c': 3, 'tf/pass-d': 0.5 };
  const cases = Object.entries(times).map(([id, t]) => `<testcase classname="${id}" name="${id}" time="${t}"/>`).join('');
  writeFileSync(join(dir, 'junit-1.xml'), `<testsuite name="earlier">${cases}</testsuite>`);
  const tests = Object.keys(times);
  const controller = s.controller(tests, { 'timings-file': join(dir, '*.xml'), 'batch-size': '1' });
  s.worker('w1');
  await finish(s, controller);
  expect(controller.exit, controller.output()).toEqual({ code: 0, signal: null });
  expect(controller.output()).toContain('timings: 4 of 4 tests known');
  expect(s.events().runners.map((r) => r.ids[0])).toEqual(['tf/pass-b', 'tf/pass-c', 'tf/pass-d', 'tf/pass-a']);

  // A pattern matching nothing is a warning naming the input, and the run goes on in listing order.
  const s2 = new Scenario(redis, 'timingsfile-none');
  const c2 = s2.controller(tests, { 'timings-file': join(dir, 'nothing-*.xml'), 'batch-size': '1' });
  s2.worker('w1');
  await finish(s2, c2);
  expect(c2.exit).toEqual({ code: 0, signal: null });
  expect(c2.output()).toContain(`::warning::Input 'timings-file': '${join(dir, 'nothing-*.xml')}' matched no file`);
  expect(c2.output()).toContain('timings: 0 of 4 tests known');
});

test('without report-output, the report is written under RUNNER_TEMP and its path is the `report` output', async () => {
  const s = new Scenario(redis, 'reportpath');
  const controller = s.controller(['rp/pass-1'], { 'report-output': '' });
  s.worker('w1');
  await finish(s, controller);
  expect(controller.exit, controller.output()).toEqual({ code: 0, signal: null });
  const path = join(controller.dir, 'runner_temp', `shardless-report-${s.queue}-${s.runId}.json`);
  expect(controller.outputs().report).toBe(path);
  expect(existsSync(path)).toBe(true);
  expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ version: 1, run: s.runId, status: 'passed' });
  expect(existsSync(s.reportPath), 'nothing at the scenario\'s own path').toBe(false);
});
