// End-to-end: how a run ends other than by completion (no worker, max-failures, run timeout, controller
// cancelled), and re-run attempts.

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { type ActionRun, ROOT, fakeCommand, isAlive, killTree, killWorkerTree, startAction } from '../helpers/action.js';
import { Scenario, checkReport, expectCountOutputs, lastLine, waitFor, useRedisServer } from './harness.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server), { everyKeyExpires: true });

/** README, "Exit status": every worker of an aborted run exits 1, saying why on its last line. */
function expectWorkersAborted(workers: ActionRun[], reason: RegExp): void {
  for (const w of workers) {
    expect(w.exit, `${w.name}: ${w.output()}`).toEqual({ code: 1, signal: null });
    const last = lastLine(w.output());
    expect(last, w.name).toMatch(/^::error::run aborted by the controller: /);
    expect(last, w.name).toMatch(reason);
  }
}

test('no worker ever comes: the controller fails after no-worker-timeout, every test not-run', async () => {
  const s = new Scenario(redis, 'noworker');
  const tests = ['n/pass-1', 'n/pass-2'];
  const t0 = Date.now();
  const controller = s.controller(tests, { 'no-worker-timeout': '2' });
  await waitFor('the controller to exit', () => controller.exit, 15_000, 100);
  expect(controller.exitedAt! - t0).toBeLessThan(12_000);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  expect(lastLine(controller.output())).toBe('::error::run aborted: no live worker for 2 s (no-worker-timeout); 2 tests not run');
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('incomplete');
  expect(report.counts).toMatchObject({ total: 2, notRun: 2, passed: 0 });
  const outputs = controller.outputs();
  expectCountOutputs(outputs, report, s);
  expect(outputs['not-run']).toBe('2');
  expect(controller.summary().trim()).not.toBe('');
});

test('max-failures: the run is aborted after that many failures, workers stop, the rest is not-run', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'maxfail');
  const tests = ['m/slow30000-2', 'm/fail-1', 'm/pass-3', 'm/pass-4', 'm/pass-5', 'm/pass-6'];
  const controller = s.controller(tests, { 'batch-size': '1', 'max-failures': '1' });
  const workers = [s.worker('w1')];
  const held = await s.startedBy('w1', (id) => id.includes('slow30000'));
  workers.push(s.worker('w2'));
  await waitFor('the controller to exit', () => controller.exit, 20_000, 100);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  // The workers stop too, killing what they run (well before the 30 s test would end).
  await s.allExited(15_000);
  await waitFor('the aborted batch to be gone', () => !isAlive(held.pid), 2_000).catch(() => undefined);
  expect(isAlive(held.pid)).toBe(false);
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('incomplete');
  expect(lastLine(controller.output())).toMatch(/^::error::run aborted: max-failures reached: 1 tests? failed; 1 test failed: m\/fail-1; \d+ tests? not run$/);
  expectWorkersAborted(workers, /max-failures reached/);
  expect(report.counts.failed).toBe(1);
  expect(s.test(report, 'm/fail-1').status).toBe('failed');
  expect(s.test(report, 'm/slow30000-2').status).not.toBe('passed');
  expect(report.counts.notRun).toBeGreaterThanOrEqual(1);
  expectCountOutputs(controller.outputs(), report, s);
});

test('run timeout: the controller gives up after `timeout` seconds and the workers stop', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'timeout');
  const tests = ['t/slow30000-1', 't/pass-2'];
  const t0 = Date.now();
  const controller = s.controller(tests, { 'batch-size': '1', timeout: '3' });
  const worker = s.worker('w1');
  await waitFor('the controller to exit', () => controller.exit, 20_000, 100);
  expect(controller.exitedAt! - t0).toBeLessThan(15_000);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  await s.allExited(15_000);
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('incomplete');
  expect(lastLine(controller.output())).toMatch(/^::error::run aborted: timeout of 3 s reached; /);
  expectWorkersAborted([worker], /timeout of 3 s reached/);
  expect(s.test(report, 't/slow30000-1').status).not.toBe('passed');
  expect(report.counts.passed + report.counts.notRun + report.counts.lost).toBe(2);
  expectCountOutputs(controller.outputs(), report, s);
  for (const p of s.events().pids) expect(isAlive(p), `pid ${p}`).toBe(false);
});

test.each(['SIGINT', 'SIGTERM'] as const)('%s to the controller: the run is aborted and the workers stop', { timeout: 90_000 }, async (sig) => {
  const s = new Scenario(redis, `ctl${sig.toLowerCase()}`);
  const tests = ['i/slow30000-1', 'i/slow30000-2', 'i/pass-3'];
  const controller = s.controller(tests, { 'batch-size': '1' });
  const workers = [s.worker('w1'), s.worker('w2')];
  await waitFor('both workers to start a slow test', () => new Set(s.events().runners.filter((r) => r.started.length).map((r) => r.worker)).size === 2, 20_000);
  const t0 = Date.now();
  process.kill(controller.pid, sig);
  await waitFor('the controller to exit', () => controller.exit, 10_000, 100);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  expect(lastLine(controller.output())).toBe(`::error::run aborted: controller cancelled by ${sig}; 3 tests not run`);
  await s.allExited(15_000);
  expect(Date.now() - t0).toBeLessThan(20_000);
  expectWorkersAborted(workers, new RegExp(`controller cancelled by ${sig}`));
  // The report is still written, each test once, none passed.
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('incomplete');
  expect(report.counts.passed).toBe(0);
  await waitFor('every batch process to be gone', () => s.events().pids.every((p) => !isAlive(p)), 3_000).catch(() => undefined);
  expect(s.events().pids.filter((p) => isAlive(p))).toEqual([]);
});

test('re-run attempts: attempt 2 seeds only what did not pass; a worker of attempt 3 exits 0 with a notice', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'rerun');
  const ghRunId = String(Date.now());
  const gh = (attempt: number) => ({
    GITHUB_ACTIONS: 'true',
    GITHUB_RUN_ID: ghRunId,
    GITHUB_RUN_ATTEMPT: String(attempt),
    GITHUB_REPOSITORY: 'example/shardless-e2e',
    FAKE_STATE_DIR: s.stateDir,
  });
  const tests = ['a/pass-1', 'a/flaky-2', 'a/pass-3'];
  const inputs = (extra: Record<string, string>) => ({
    'redis-url': redis.url,
    queue: s.queue,
    'working-directory': ROOT,
    'heartbeat-ttl': '3',
    'no-worker-timeout': '60',
    ...extra,
  });
  const ctl = (attempt: number, report: string) =>
    startAction(inputs({ mode: 'controller', tests: tests.join('\n'), 'report-output': report }), gh(attempt), { name: `controller attempt ${attempt}` });
  const wk = (attempt: number, id: string) => startAction(inputs({ mode: 'worker', command: fakeCommand(true), 'worker-id': id }), gh(attempt), { name: `worker ${id} attempt ${attempt}` });

  // Attempt 1: the flaky test fails (no retries).
  const r1 = `${s.dir}/report-1.json`;
  const c1 = ctl(1, r1);
  const w1 = wk(1, 'w1');
  s.runs.push(c1, w1);
  await waitFor('attempt 1 to end', () => c1.exit && w1.exit, 45_000, 100);
  expect(c1.exit).toEqual({ code: 1, signal: null });
  const rep1 = JSON.parse(readFileSync(r1, 'utf8'));
  expect(rep1.run).toBe(`${ghRunId}-1`);
  expect(rep1.counts).toMatchObject({ total: 3, passed: 2, failed: 1 });

  // Attempt 2: only the failed test is seeded, and now passes.
  const r2 = `${s.dir}/report-2.json`;
  const c2 = ctl(2, r2);
  const w2 = wk(2, 'w1');
  s.runs.push(c2, w2);
  await waitFor('attempt 2 to end', () => c2.exit && w2.exit, 45_000, 100);
  expect(c2.exit).toEqual({ code: 0, signal: null });
  const rep2 = JSON.parse(readFileSync(r2, 'utf8'));
  expect(rep2.run).toBe(`${ghRunId}-2`);
  expect(rep2.tests.map((t: { id: string }) => t.id)).toEqual(['a/flaky-2']);
  expect(rep2.counts).toMatchObject({ total: 1, passed: 1 });
  expect(s.events().runners.flatMap((r) => r.ids).filter((id) => id === 'a/pass-1')).toHaveLength(1);

  // Attempt 3 (say, a re-run of the worker jobs only): attempt 2 passed, so no controller comes.
  const w3 = wk(3, 'w1');
  s.runs.push(w3);
  await waitFor('the worker of attempt 3 to exit', () => w3.exit, 30_000, 100);
  expect(w3.exit).toEqual({ code: 0, signal: null });
  expect(w3.output()).toMatch(/::notice/);
});

test('the controller dies with a test held by a dead worker: the other worker does not wait forever', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'ctlgone');
  const tests = ['g/slow30000-held', 'g/pass-1', 'g/pass-2', 'g/pass-3'];
  const controller = s.controller(tests, { 'batch-size': '1', 'no-worker-timeout': '3' });
  const w2 = s.worker('w2');
  await s.startedBy('w2', (id) => id.includes('slow30000-held'));
  const w1 = s.worker('w1');
  await waitFor('w1 to run the other tests', () => s.events().runners.filter((r) => r.worker === 'w1' && r.exitCode !== undefined).length >= 3, 20_000);
  // Now the only test left is held by w2: kill w2 (with its tree) and the controller that would reap it.
  killWorkerTree(w2, s.stateDir, 'w2', 'SIGKILL');
  killTree(controller.pid, 'SIGKILL');
  const t0 = Date.now();
  // no-worker-timeout is 3 s (a run-wide setting, published by the controller): allow a generous 25 s.
  await waitFor('w1 to give up or finish', () => w1.exit, 25_000, 100);
  expect(Date.now() - t0, 'in bounded time').toBeLessThan(25_000);
  const reran = s.events().runners.some((r) => r.worker === 'w1' && r.ids.includes('g/slow30000-held'));
  // Either it gave up (exit 1: the controller is gone past no-worker-timeout), or it re-ran the held test and
  // the run completed without the controller.
  if (!reran) {
    expect(w1.exit).toEqual({ code: 1, signal: null });
    expect(w1.output()).toContain('::error::');
  }
  await waitFor('every batch process to be gone', () => s.events().pids.every((p) => !isAlive(p)), 3_000).catch(() => undefined);
  expect(s.events().pids.filter((p) => isAlive(p))).toEqual([]);
});

test('a re-run attempt whose previous attempt left no results seeds every test, saying why', async () => {
  const s = new Scenario(redis, 'rerunfresh');
  const tests = ['rf/pass-1', 'rf/pass-2'];
  const gh = {
    GITHUB_ACTIONS: 'true',
    GITHUB_RUN_ID: `fresh-${Date.now()}`,
    GITHUB_RUN_ATTEMPT: '2',
    GITHUB_REPOSITORY: 'example/shardless-e2e',
  };
  const controller = s.controller(tests, { 'run-id': '' }, gh);
  s.worker('w1', { 'run-id': '' }, gh);
  await waitFor('the controller to exit', () => controller.exit, 45_000, 100);
  await s.allExited(15_000);
  expect(controller.exit).toEqual({ code: 0, signal: null });
  const report = JSON.parse(readFileSync(s.reportPath, 'utf8'));
  expect(report.run).toBe(`${gh.GITHUB_RUN_ID}-2`);
  expect(report.counts).toMatchObject({ total: 2, passed: 2 });
  expect(controller.output()).toMatch(/attempt/i);
});
