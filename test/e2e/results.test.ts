// End-to-end: a normal run over three workers with one failure, and a failing batch without JUnit whose failure
// must be pinned on the one test that causes it.

import { expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { fakeCommand } from '../helpers/action.js';
import { Scenario, checkReport, expectAllKeysExpire, expectCountOutputs, lastLine, waitFor, useRedisServer } from './harness.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server));

test('happy path: 3 workers, 20 passing tests and 1 failing one', async () => {
  const s = new Scenario(redis, 'happy');
  const passes = Array.from({ length: 19 }, (_, i) => `suite/pass-${String(i).padStart(2, '0')}.test.ts`);
  // An id with spaces, quotes and XML specials: argv, shell quoting and JUnit matching must keep it exact.
  const odd = `suite dir/pass-with space 'single' "double" & <angle>.test.ts`;
  const fail = 'suite/fail-one.test.ts';
  const tests = [...passes.slice(0, 10), fail, odd, ...passes.slice(10)];
  expect(tests).toHaveLength(21);

  const controller = s.controller(tests, { 'batch-size': '3' });
  const workers = ['w1', 'w2', 'w3'].map((id) => s.worker(id));

  await waitFor('the controller to exit', () => controller.exit, 45_000, 100);
  await s.allExited(15_000);

  // Controller: exit 1 with a reason on its last line, outputs, report, summary.
  expect(controller.exit).toEqual({ code: 1, signal: null });
  expect(lastLine(controller.output())).not.toBe('');
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('failed');
  expect(report.counts).toEqual({ total: 21, passed: 20, failed: 1, flaky: 0, lost: 0, skipped: 0, notRun: 0 });
  const outputs = controller.outputs();
  expectCountOutputs(outputs, report, s);
  expect(outputs['failed-tests']).toBe(fail);
  expect(outputs['lost-tests'] ?? '').toBe('');

  for (const id of tests) {
    const t = s.test(report, id);
    expect(t.runs, id).toHaveLength(1);
    expect(t.runs[0].isolated, id).toBe(false);
    expect(['w1', 'w2', 'w3'], id).toContain(t.runs[0].worker);
    expect(t.status, id).toBe(id === fail ? 'failed' : 'passed');
  }
  const failedBy = s.test(report, fail).runs[0].worker;

  // Workers: the one that ran the failure exits 1, the others 0; their outputs add up.
  let totalTests = 0;
  let totalFailed = 0;
  for (const w of workers) {
    const id = w.name.replace('worker ', '');
    expect(w.exit, id).toEqual({ code: id === failedBy ? 1 : 0, signal: null });
    const o = w.outputs();
    expect(o.batches, `${id} batches`).toMatch(/^\d+$/);
    expect(o.tests, `${id} tests`).toMatch(/^\d+$/);
    expect(o.failed, `${id} failed`).toBe(id === failedBy ? '1' : '0');
    totalTests += Number(o.tests);
    totalFailed += Number(o.failed);
    const inReport = report.workers.find((x) => x.id === id);
    if (Number(o.batches) > 0) {
      expect(inReport, `${id} in the report`).toBeDefined();
      expect(inReport!.batches).toBe(Number(o.batches));
      expect(inReport!.tests).toBe(Number(o.tests));
      expect(inReport!.state).toBe('finished');
      expect(inReport!.lostBatches).toBe(0);
    }
  }
  expect(totalTests).toBe(21);
  expect(totalFailed).toBe(1);

  // The command got exact argv and the SHARDLESS_* environment; batches never exceed batch-size.
  const ev = s.events();
  expect(ev.runners.map((r) => r.ids).flat().sort()).toEqual([...tests].sort());
  for (const r of ev.runners) {
    expect(r.ids.length).toBeGreaterThan(0);
    expect(r.ids.length).toBeLessThanOrEqual(3);
    expect(r.env.SHARDLESS_TESTS).toBe(r.ids.join('\n'));
    expect(r.env.SHARDLESS_WORKER).toBe(r.worker);
    expect(r.env.SHARDLESS_ISOLATED).toBe('false');
    expect(r.env.SHARDLESS_ATTEMPT).toBe('1');
    expect(r.env.SHARDLESS_BATCH).toBeTruthy();
    expect(r.env.SHARDLESS_JUNIT).toBeTruthy();
    expect(r.env.SHARDLESS_TESTS_FILE).toBeTruthy();
    expect(r.exitCode).toBe(r.ids.includes(fail) ? 1 : 0);
  }
  expect(new Set(ev.runners.map((r) => r.env.SHARDLESS_BATCH)).size).toBe(ev.runners.length);

  const summary = controller.summary();
  expect(summary.trim()).not.toBe('');
  expect(summary).toContain(fail);
  expect(summary).toContain('gantt');
  expect(summary).toContain('mermaid');
  await expectAllKeysExpire(redis);
});

test('a failing batch without JUnit is split, and the failure pinned on the test that causes it', async () => {
  const s = new Scenario(redis, 'split');
  const tests = ['d/pass-1', 'd/pass-2', 'd/fail-3', 'd/pass-4', 'd/pass-5', 'd/pass-6', 'd/pass-7', 'd/pass-8'];
  const fail = 'd/fail-3';
  // timings off: no cost-based sizing, so every batch from the primary queue holds batch-size tests, in the listed order.
  const controller = s.controller(tests, { 'batch-size': '4', timings: 'false' });
  const w1 = s.worker('w1', { command: fakeCommand(false) });

  await waitFor('the controller to exit', () => controller.exit, 45_000, 100);
  await s.allExited(15_000);

  expect(controller.exit).toEqual({ code: 1, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('failed');
  expect(report.counts).toEqual({ total: 8, passed: 7, failed: 1, flaky: 0, lost: 0, skipped: 0, notRun: 0 });
  const outputs = controller.outputs();
  expectCountOutputs(outputs, report, s);
  expect(outputs['failed-tests']).toBe(fail);

  // The batch that held the failure: every test in it went to the requeue (split), then ran alone.
  const ev = s.events();
  const failing = ev.runners.filter((r) => r.ids.length > 1 && r.ids.includes(fail));
  expect(failing).toHaveLength(1);
  const mates = failing[0].ids.filter((t) => t !== fail);
  expect(mates).toHaveLength(3);
  for (const id of mates) {
    const t = s.test(report, id);
    expect(t.status, id).toBe('passed');
    expect(t.runs.map((r) => [r.outcome, r.isolated]), id).toEqual([
      ['split', false],
      ['passed', true],
    ]);
  }
  const f = s.test(report, fail);
  expect(f.status).toBe('failed');
  expect(f.runs.map((r) => [r.outcome, r.isolated])).toEqual([
    ['split', false],
    ['failed', true],
  ]);
  // The other batch exited 0: all passed at once.
  for (const id of tests.filter((t) => t !== fail && !mates.includes(t))) {
    expect(s.test(report, id).runs.map((r) => [r.outcome, r.isolated]), id).toEqual([['passed', false]]);
  }
  // The re-runs were told they are isolated, and their attempt number counts the split run.
  for (const id of [...mates, fail]) {
    const alone = ev.runners.filter((r) => r.ids.length === 1 && r.ids[0] === id);
    expect(alone, id).toHaveLength(1);
    expect(alone[0].env.SHARDLESS_ISOLATED, id).toBe('true');
    expect(alone[0].env.SHARDLESS_ATTEMPT, id).toBe('2');
  }

  // The worker ran a test that ended failed.
  expect(w1.exit).toEqual({ code: 1, signal: null });
  expect(w1.outputs()).toMatchObject({ batches: '6', failed: '1' });
  expect(controller.summary().trim()).not.toBe('');
});

test('the Redis URL can come from SHARDLESS_REDIS_URL or REDIS_URL instead of the input', async () => {
  const s = new Scenario(redis, 'envurl');
  const tests = ['env/pass-1', 'env/pass-2', 'env/skip-3'];
  const controller = s.controller(tests, { 'redis-url': '' }, { REDIS_URL: redis.url });
  const w1 = s.worker('w1', { 'redis-url': '' }, { SHARDLESS_REDIS_URL: redis.url, REDIS_URL: 'redis://127.0.0.1:1' });
  await waitFor('the controller to exit', () => controller.exit, 30_000, 100);
  await s.allExited(15_000);
  expect(controller.exit).toEqual({ code: 0, signal: null });
  expect(w1.exit).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('passed');
  expect(report.counts).toMatchObject({ total: 3, passed: 2, skipped: 1 });
  expect(s.test(report, 'env/skip-3').status).toBe('skipped');
});

test('a JUnit file without the batch\'s tests is no pass: they have no result, run again alone, and end lost', async () => {
  const s = new Scenario(redis, 'junit-others');
  const tests = ['j/a.test.ts', 'j/b.test.ts'];
  // Exit 0, and a JUnit report of another file only (a runner that ran the wrong files, say).
  const other = '<testsuites><testsuite name="other/x.test.ts"><testcase classname="other/x.test.ts" name="x" time="0.1"/></testsuite></testsuites>';
  const controller = s.controller(tests, { 'batch-size': '2', 'max-attempts': '2', timings: 'false' });
  const w1 = s.worker('w1', { command: `printf '%s' '${other}' > {junit}` });

  await waitFor('the controller to exit', () => controller.exit, 45_000, 100);
  await s.allExited(15_000);

  expect(controller.exit).toEqual({ code: 1, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.counts).toMatchObject({ total: 2, passed: 0, lost: 2 });
  for (const id of tests) {
    expect(s.test(report, id).runs.map((r) => [r.outcome, r.isolated]), id).toEqual([['lost', false], ['lost', true]]);
  }
  // One warning per batch (the first batch and each test's run alone), naming the ids and the file read.
  const warnings = w1.output().split('\n').filter((l) => l.startsWith('::warning::') && l.includes('no testcase'));
  expect(warnings).toHaveLength(3);
  expect(warnings[0]).toContain('"j/a.test.ts", "j/b.test.ts"');
  expect(warnings[0]).toMatch(/junit\.xml/);
  expect(w1.exit).toEqual({ code: 1, signal: null });
});
