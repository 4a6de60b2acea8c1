// End-to-end: a hanging test killed by batch-timeout (process tree included) and given up after max-attempts,
// and a worker cancelled by SIGINT that hands its batch back at once.

import { expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { isAlive } from '../helpers/action.js';
import { Scenario, checkReport, expectAllKeysExpire, expectCountOutputs, lastLine, waitFor, useRedisServer } from './harness.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server));

test('a hanging test: batch-timeout kills the tree, batch-mates re-run alone and pass, the hang ends lost', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'hang');
  const hang = 'c/hang-forever';
  const tests = [hang, 'c/pass-1', 'c/pass-2', 'c/pass-3', 'c/pass-4', 'c/pass-5', 'c/pass-6', 'c/pass-7'];
  // timings off: no cost-based sizing, so every batch from the primary queue holds batch-size tests, in the listed order.
  const controller = s.controller(tests, { 'batch-size': '5', 'batch-timeout': '2', 'max-attempts': '2', timings: 'false' });
  const workers = [s.worker('w1'), s.worker('w2')];

  await waitFor('the controller to exit', () => controller.exit, 60_000, 100);
  await s.allExited(15_000);

  expect(controller.exit).toEqual({ code: 1, signal: null });
  expect(lastLine(controller.output())).not.toBe('');
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('failed');
  expect(report.counts).toEqual({ total: 8, passed: 7, failed: 0, flaky: 0, lost: 1, skipped: 0, notRun: 0 });
  const outputs = controller.outputs();
  expectCountOutputs(outputs, report, s);
  expect(outputs['lost-tests']).toBe(hang);
  expect(outputs.lost).toBe('1');

  const h = s.test(report, hang);
  expect(h.status).toBe('lost');
  expect(h.runs.map((r) => r.outcome)).toEqual(['timeout', 'timeout']);
  expect(h.runs[1].isolated).toBe(true);

  // The tests that shared the hang's first batch timed out with it, then passed alone.
  const ev = s.events();
  const first = ev.runners.find((r) => r.ids.includes(hang) && r.ids.length > 1);
  expect(first, 'the hang was in a batch of several').toBeDefined();
  for (const id of first!.ids.filter((t) => t !== hang)) {
    const t = s.test(report, id);
    expect(t.status, id).toBe('passed');
    expect(t.runs.map((r) => [r.outcome, r.isolated]), id).toEqual([
      ['timeout', false],
      ['passed', true],
    ]);
  }
  // The hang ran twice, each time in its own runner; both runs were killed before ending.
  const hangRunners = ev.runners.filter((r) => r.started.includes(hang));
  expect(hangRunners).toHaveLength(2);
  for (const r of hangRunners) expect(r.exitCode).toBeUndefined();
  expect(hangRunners.flatMap((r) => r.grandchildren)).toHaveLength(2);

  // Nothing a batch started outlives the run: runners, and the hang's grandchild `sleep`s.
  await waitFor('every batch process to be gone', () => ev.pids.every((p) => !isAlive(p)), 2_000).catch(() => undefined);
  expect(ev.pids.filter((p) => isAlive(p)), 'processes still alive').toEqual([]);

  // A worker that ran the hang (which ended lost) exits 1; one that did not, 0.
  for (const w of workers) {
    const id = w.name.replace('worker ', '');
    const ranHang = h.runs.some((r) => r.worker === id);
    expect(w.exit, id).toEqual({ code: ranHang ? 1 : 0, signal: null });
  }
  expect(controller.summary()).toContain(hang);
  await expectAllKeysExpire(redis);
});

test.each(['SIGINT', 'SIGTERM'] as const)('%s to a worker mid-batch: it kills its batch, hands the tests back at once and exits 1 within 5 s', { timeout: 90_000 }, async (sig) => {
  const s = new Scenario(redis, sig.toLowerCase());
  const tests = ['e/slow10000-held', ...Array.from({ length: 8 }, (_, i) => `e/pass-${i + 1}`)];
  // A long heartbeat-ttl: the run may only finish quickly if the tests are handed back, not reaped.
  const controller = s.controller(tests, { 'batch-size': '3', 'heartbeat-ttl': '30' });
  const w1 = s.worker('w1');
  const held = await s.startedBy('w1', (id) => id.includes('slow10000'));
  const w2 = s.worker('w2');

  const t0 = Date.now();
  process.kill(w1.pid, sig);
  await waitFor(`w1 to exit after ${sig}`, () => w1.exit, 8_000);
  expect(w1.exitedAt! - t0, 'w1 exits within 5 s').toBeLessThan(5_000);
  expect(w1.exit).toEqual({ code: 1, signal: null });
  expect(w1.output()).toContain(`handed ${held.ids.length} test${held.ids.length === 1 ? '' : 's'} back to the queue`);
  // (Its batch's log group may close after the error line: the error is not always the last line.)
  expect(w1.output().split('\n')).toContain(`::error::worker w1 cancelled by ${sig}`);
  // Its batch process tree is gone (the runner leads or belongs to the batch's process group).
  const w1pids = () => s.events().runners.filter((r) => r.worker === 'w1').flatMap((r) => [r.pid, ...r.grandchildren]);
  await waitFor('the batch process to be gone', () => w1pids().every((p) => !isAlive(p)), 1_000).catch(() => undefined);
  expect(w1pids().filter((p) => isAlive(p)), 'w1 batch processes still alive').toEqual([]);
  // Handed back at once: w2 picks the held slow test up long before heartbeat-ttl (30 s) could reap w1.
  await s.startedBy('w2', (id) => id.includes('slow10000'), 8_000);

  await waitFor('the controller to exit', () => controller.exit, 28_000, 100);
  const elapsed = Date.now() - t0;
  await s.allExited(15_000);
  // Re-running the 10 s test takes 10 s; reaping w1 would have taken 30 s more.
  expect(elapsed, 'the run completes well before heartbeat-ttl').toBeLessThan(25_000);
  expect(controller.exit).toEqual({ code: 0, signal: null });
  expect(w2.exit).toEqual({ code: 0, signal: null });

  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('passed');
  expect(report.counts).toEqual({ total: 9, passed: 9, failed: 0, flaky: 0, lost: 0, skipped: 0, notRun: 0 });
  expectCountOutputs(controller.outputs(), report, s);
  for (const id of held.ids) {
    const t = s.test(report, id);
    expect(t.runs, id).toHaveLength(2);
    expect(t.runs[0], id).toMatchObject({ worker: 'w1', outcome: 'lost', isolated: false });
    expect(t.runs[1], id).toMatchObject({ worker: 'w2', outcome: 'passed', isolated: true });
  }
  expect(report.workers.find((w) => w.id === 'w1')).toMatchObject({ state: 'cancelled' });
  expect(report.workers.find((w) => w.id === 'w2')).toMatchObject({ state: 'finished' });
  await expectAllKeysExpire(redis);
});
