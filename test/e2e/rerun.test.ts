// End-to-end: re-runs of a workflow (README, "Re-runs"). Without a `run-id` input the run id is
// `${GITHUB_RUN_ID}-${GITHUB_RUN_ATTEMPT}`, and an attempt > 1 seeds only the tests that were failed, lost or
// not-run in the previous attempt. lifecycle.test.ts covers the basic chain (one flaky test fixed by
// attempt 2, a worker of attempt 3 after a passing attempt 2) and an attempt whose predecessor left no
// results; this file covers several workers and failures, lost and not-run tests, workers that start
// before their controller, a third attempt, the quick exit of a worker whose attempt has nothing to do,
// and that an explicit run-id turns the re-run logic off.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { isAlive, type ActionRun } from '../helpers/action.js';
import { type Report, Scenario, checkReport, expectCountOutputs, lastLine, waitFor, useRedisServer } from './harness.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server), { everyKeyExpires: true });

let ghSeq = 0;

/**
 * One workflow run on GitHub: every attempt of it shares GITHUB_RUN_ID, and its actions get no `run-id`
 * input (that is what turns re-runs on).
 */
class Workflow {
  readonly ghRunId = `${process.pid}${Date.now()}${++ghSeq}`;
  constructor(readonly s: Scenario, readonly tests: string[]) {}

  env(attempt: number): Record<string, string> {
    return {
      GITHUB_ACTIONS: 'true',
      GITHUB_RUN_ID: this.ghRunId,
      GITHUB_RUN_ATTEMPT: String(attempt),
      GITHUB_REPOSITORY: 'example/shardless-rerun-e2e',
    };
  }

  reportPath(attempt: number): string {
    return join(this.s.dir, `report-${attempt}.json`);
  }

  controller(attempt: number, inputs: Record<string, string> = {}): ActionRun {
    const run = this.s.controller(this.tests, { 'run-id': '', 'report-output': this.reportPath(attempt), ...inputs }, this.env(attempt));
    run.name = `controller (attempt ${attempt})`;
    return run;
  }

  worker(attempt: number, id: string, inputs: Record<string, string> = {}): ActionRun {
    const run = this.s.worker(id, { 'run-id': '', ...inputs }, this.env(attempt));
    run.name = `worker ${id} (attempt ${attempt})`;
    return run;
  }

  report(attempt: number): Report {
    return JSON.parse(readFileSync(this.reportPath(attempt), 'utf8')) as Report;
  }

  /** The report checks of every run (harness.ts), for this attempt's run id. */
  check(attempt: number, seeded: string[]): Report {
    const report = this.report(attempt);
    expect(report.run).toBe(`${this.ghRunId}-${attempt}`);
    checkReport(report, { queue: this.s.queue, runId: report.run } as Scenario, seeded);
    return report;
  }

  /** Ids the fake runner was given by batches that started after events line `since`. */
  ranSince(since: number): string[] {
    return this.s.events().runners.filter((r) => r.seq >= since).flatMap((r) => r.ids);
  }
}

const ids = (report: Report) => report.tests.map((t) => t.id);
const byStatus = (report: Report, ...st: string[]) => report.tests.filter((t) => st.includes(t.status)).map((t) => t.id);

async function ended(what: string, runs: ActionRun[], timeoutMs = 45_000): Promise<void> {
  await waitFor(what, () => runs.every((r) => r.exit), timeoutMs, 100);
}

test('attempt 2 of a run with 2 failures out of 8 (2 workers) seeds exactly those 2; its workers wait for its controller', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'rerun8');
  const tests = ['rr/pass-1', 'rr/fail-2', 'rr/pass-3', 'rr/skip-4', 'rr/pass-5', 'rr/fail-6', 'rr/slow300-7', 'rr/pass-8'];
  const wf = new Workflow(s, tests);

  // Attempt 1: two workers share the 8 tests; two fail.
  const a1 = [wf.controller(1, { 'batch-size': '2' }), wf.worker(1, 'w1'), wf.worker(1, 'w2')];
  await ended('attempt 1 to end', a1);
  expect(a1[0].exit).toEqual({ code: 1, signal: null });
  const rep1 = wf.check(1, tests);
  expect(rep1.counts).toMatchObject({ total: 8, passed: 5, failed: 2, skipped: 1, flaky: 0, lost: 0, notRun: 0 });
  expect(byStatus(rep1, 'failed')).toEqual(['rr/fail-2', 'rr/fail-6']);
  expect(new Set(rep1.tests.flatMap((t) => t.runs.map((r) => r.worker)))).toEqual(new Set(['w1', 'w2']));

  // Attempt 2 ("Re-run failed jobs" re-runs the controller job too): its workers start first and wait for
  // its controller, even though an attempt-1 run exists (attempt 1 failed, so this attempt has work).
  const since = s.events().lines.length;
  const w1 = wf.worker(2, 'w1');
  const w2 = wf.worker(2, 'w2');
  await new Promise((r) => setTimeout(r, 2_000));
  for (const w of [w1, w2]) {
    expect(w.running(), `${w.name} waits for its controller`).toBe(true);
    expect(w.output()).not.toMatch(/::notice/);
  }
  const c2 = wf.controller(2, { 'batch-size': '2' });
  await ended('attempt 2 to end', [c2, w1, w2]);

  // Exactly the two failures, in seeded order; they fail again, so the controller fails.
  const rep2 = wf.check(2, ['rr/fail-2', 'rr/fail-6']);
  expect(ids(rep2)).toEqual(['rr/fail-2', 'rr/fail-6']);
  expect(rep2.counts).toMatchObject({ total: 2, failed: 2 });
  expect(c2.output()).toMatch(/Attempt 2: re-running the 2 of 8 tests that did not pass in attempt 1/);
  expect(c2.exit).toEqual({ code: 1, signal: null });
  expect(lastLine(c2.output())).toMatch(/2 tests failed: rr\/fail-2, rr\/fail-6/);
  expectCountOutputs(c2.outputs(), rep2, { reportPath: wf.reportPath(2) } as Scenario);
  expect(c2.summary()).toContain(`${wf.ghRunId}-2`);
  // Nothing that passed or was skipped in attempt 1 ran again.
  expect(wf.ranSince(since).sort()).toEqual(['rr/fail-2', 'rr/fail-6']);
  for (const w of [w1, w2]) expect(w.exit, w.name).toEqual({ code: w.outputs().failed === '0' ? 0 : 1, signal: null });
});

test('lost and not-run tests of attempt 1 are re-run in attempt 2; passed ones are not', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'rerunlost');
  // Claimed in this order, one at a time: the hang is lost (batch-timeout 1 s, max-attempts 1), the
  // failure aborts the run (max-failures 1), so the last two are never run.
  const tests = ['rl/hang-1', 'rl/pass-2', 'rl/fail-3', 'rl/pass-4', 'rl/pass-5'];
  const wf = new Workflow(s, tests);
  const settings = { 'batch-size': '1', 'batch-timeout': '1', 'max-attempts': '1', timings: 'false' };
  const a1 = [wf.controller(1, { ...settings, 'max-failures': '1' }), wf.worker(1, 'w1')];
  await ended('attempt 1 to end', a1);
  expect(a1[0].exit).toEqual({ code: 1, signal: null });
  const rep1 = wf.check(1, tests);
  expect(rep1.status).toBe('incomplete');
  expect(wf.report(1).tests.find((t) => t.id === 'rl/hang-1')?.status).toBe('lost');
  expect(wf.report(1).tests.find((t) => t.id === 'rl/fail-3')?.status).toBe('failed');
  expect(wf.report(1).tests.find((t) => t.id === 'rl/pass-2')?.status).toBe('passed');
  expect(rep1.counts.notRun).toBeGreaterThanOrEqual(1);
  const again = byStatus(rep1, 'failed', 'lost', 'not-run');

  const since = s.events().lines.length;
  const a2 = [wf.controller(2, settings), wf.worker(2, 'w1')];
  await ended('attempt 2 to end', a2);
  const rep2 = wf.check(2, again);
  expect(ids(rep2)).toEqual(again); // in seeded order
  expect(ids(rep2)).not.toContain('rl/pass-2');
  expect(a2[0].output()).toContain(`re-running the ${again.length} of 5 tests that did not pass in attempt 1`);
  // This time nothing aborts: the not-run ones pass, the hang is lost again, the failure fails again.
  expect(rep2.tests.map((t) => [t.id, t.status])).toEqual(
    again.map((id) => [id, id.includes('hang') ? 'lost' : id.includes('fail') ? 'failed' : 'passed']),
  );
  expect(wf.ranSince(since)).not.toContain('rl/pass-2');
  await waitFor('every batch process to be gone', () => s.events().pids.every((p) => !isAlive(p)), 5_000).catch(() => undefined);
  expect(s.events().pids.filter((p) => isAlive(p))).toEqual([]);
});

// A test that attempt 2 did not list (it passed in attempt 1) is not a new test: attempt 3 must not re-run
// it (src/queue/rerun.ts testsToRerun looks further back for tests the previous attempt did not list).
test('attempt 3 re-runs what still failed in attempt 2, not what passed in attempt 1', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'rerun3');
  const tests = ['r3/pass-1', 'r3/fail-2', 'r3/pass-3', 'r3/flaky-4'];
  const wf = new Workflow(s, tests);
  for (const attempt of [1, 2]) {
    const runs = [wf.controller(attempt), wf.worker(attempt, 'w1')];
    await ended(`attempt ${attempt} to end`, runs);
  }
  expect(byStatus(wf.report(1), 'failed')).toEqual(['r3/fail-2', 'r3/flaky-4']);
  // Attempt 2: the flaky test passes now, the failure fails again.
  expect(wf.report(2).tests.map((t) => [t.id, t.status])).toEqual([
    ['r3/fail-2', 'failed'],
    ['r3/flaky-4', 'passed'],
  ]);

  const since = s.events().lines.length;
  const a3 = [wf.controller(3), wf.worker(3, 'w1')];
  await ended('attempt 3 to end', a3);
  expect(a3[0].output()).toContain('re-running the 1 of 4 tests that did not pass in attempt 2');
  expect(ids(wf.check(3, ['r3/fail-2']))).toEqual(['r3/fail-2']);
  expect(wf.ranSince(since)).toEqual(['r3/fail-2']);
});

test('attempt 1 passed: workers of attempt 2 whose controller never comes exit 0 at once with a notice', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'rerunpassed');
  const tests = ['rp/pass-1', 'rp/pass-2', 'rp/skip-3'];
  const wf = new Workflow(s, tests);
  const a1 = [wf.controller(1), wf.worker(1, 'w1')];
  await ended('attempt 1 to end', a1);
  expect(a1.map((r) => r.exit)).toEqual([{ code: 0, signal: null }, { code: 0, signal: null }]);
  expect(wf.report(1).status).toBe('passed');

  // A re-run of only the worker jobs (say, one was cancelled): no controller comes for attempt 2. Each
  // worker exits 0 well before no-worker-timeout (60 s), without running anything.
  const since = s.events().lines.length;
  const t0 = Date.now();
  const ws = [wf.worker(2, 'w1'), wf.worker(2, 'w2')];
  await ended('the workers of attempt 2 to exit', ws, 20_000);
  for (const w of ws) {
    expect(w.exit, w.name).toEqual({ code: 0, signal: null });
    expect(w.exitedAt! - t0, `${w.name} exits quickly`).toBeLessThan(10_000);
    expect(w.output()).toMatch(/^::notice::.*attempt 1 .*passed/m);
    expect(w.output()).not.toMatch(/::error::/);
  }
  expect(wf.ranSince(since)).toEqual([]);
});

test('attempt 1 passed and every job is re-run: the controller of attempt 2 has nothing to seed and passes, its workers exit 0', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'rerunall');
  const tests = ['ra/pass-1', 'ra/pass-2'];
  const wf = new Workflow(s, tests);
  const a1 = [wf.controller(1), wf.worker(1, 'w1')];
  await ended('attempt 1 to end', a1);
  expect(wf.report(1).status).toBe('passed');

  const since = s.events().lines.length;
  const t0 = Date.now();
  const a2 = [wf.controller(2), wf.worker(2, 'w1'), wf.worker(2, 'w2')];
  await ended('attempt 2 to end', a2, 30_000);
  expect(Date.now() - t0).toBeLessThan(15_000);
  expect(a2.map((r) => r.exit)).toEqual(a2.map(() => ({ code: 0, signal: null })));
  expect(a2[0].output()).toContain('re-running the 0 of 2 tests that did not pass in attempt 1');
  const rep2 = wf.check(2, []);
  expect(rep2).toMatchObject({ status: 'passed', counts: { total: 0 } });
  expect(a2[0].outputs()).toMatchObject({ total: '0', failed: '0', lost: '0' });
  expect(wf.ranSince(since)).toEqual([]);
});

test('an explicit run-id turns re-runs off: attempt 2 runs every test', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'rerunexplicit');
  const tests = ['re/pass-1', 're/fail-2', 're/pass-3'];
  const wf = new Workflow(s, tests);
  // Attempt 1 without run-id (so attempt 1's results are in Redis under `${GITHUB_RUN_ID}-1`)...
  const a1 = [wf.controller(1), wf.worker(1, 'w1')];
  await ended('attempt 1 to end', a1);
  expect(wf.report(1).counts).toMatchObject({ total: 3, failed: 1 });
  // ...attempt 2 with one: nothing is selected from attempt 1.
  const runId = `${s.runId}-explicit`;
  const a2 = [wf.controller(2, { 'run-id': runId }), wf.worker(2, 'w1', { 'run-id': runId })];
  await ended('attempt 2 to end', a2);
  const rep2 = wf.report(2);
  expect(rep2.run).toBe(runId);
  expect(ids(rep2)).toEqual(tests);
  expect(a2[0].output()).not.toMatch(/re-running/);
});

/**
 * A run completes under a run id; then the next run uses the same id (act, or a CI system's retry of the
 * controller with its workers), and its worker starts before its controller. The worker must not take
 * the finished run for its own and exit: it joins the run its controller starts, and runs every test.
 */
async function runIdUsedAgain(s: Scenario, inputs: Record<string, string>, env: Record<string, string>): Promise<void> {
  const first = [s.controller(['ru/pass-1', 'ru/pass-2'], inputs, env), s.worker('w1', inputs, env)];
  await ended('the first run to end', first);
  expect(first.map((r) => r.exit)).toEqual([{ code: 0, signal: null }, { code: 0, signal: null }]);

  const tests = ['ru/pass-3', 'ru/pass-4', 'ru/skip-5'];
  const w2 = s.worker('w2', inputs, env);
  await waitFor('the worker to connect', () => /shardless worker w2: run /.test(w2.output()), 20_000, 50);
  // A short no-worker-timeout: a controller left without its worker fails fast.
  const controller = s.controller(tests, { ...inputs, 'no-worker-timeout': '8' }, env);
  await ended('the second run to end', [controller, w2]);
  expect(controller.exit, controller.output()).toEqual({ code: 0, signal: null });
  expect(w2.exit, w2.output()).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.counts).toMatchObject({ total: 3, passed: 2, skipped: 1, notRun: 0 });
  for (const t of report.tests) expect(t.runs.map((r) => r.worker), t.id).toEqual(['w2']);
}

test('an explicit run-id used again: a worker that starts before the new controller joins the new run', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'runid-again');
  await runIdUsedAgain(s, {}, {});
});

test('act (ACT=true, every invocation GITHUB_RUN_ID=1): a worker that starts before the new controller joins the new run', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'runid-act');
  (s as unknown as { runId: string }).runId = '1-1';
  await runIdUsedAgain(s, { 'run-id': '' }, { ACT: 'true', GITHUB_RUN_ID: '1', GITHUB_RUN_ATTEMPT: '1' });
});

test('a worker that comes after its run ended (explicit run-id) waits no-worker-timeout for a new start, then ends as that run did', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'runid-late');
  const first = [s.controller(['rl/pass-1']), s.worker('w1')];
  await ended('the run to end', first);
  const late = s.worker('w2', { 'no-worker-timeout': '3' });
  await ended('the late worker to exit', [late], 20_000);
  expect(late.exit, late.output()).toEqual({ code: 0, signal: null });
  expect(late.output()).toMatch(/finished before this worker started: waiting for the controller to start it again \(up to 3 s\)/);
  expect(late.exitedAt! - late.startedAt).toBeGreaterThanOrEqual(3_000);
});

