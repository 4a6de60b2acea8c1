// End-to-end: fencing (docs/protocol.md, invariants 3 and 7): a frozen worker that comes back after it was reclaimed, and a
// restarted run that the old start's worker cannot touch.

import { expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { fakeCommand, isAlive, killTree, readEvents, startAction } from '../helpers/action.js';
import { Scenario, checkReport, expectAllKeysExpire, waitFor, useRedisServer } from './harness.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server));

test('a frozen worker (SIGSTOP past heartbeat-ttl) is reclaimed; when it thaws its late results are fenced', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'frozen');
  // w1 takes [slow3000-a, pass-b]; w2 takes the keep-alive, so the run is still open when w1 thaws.
  const tests = ['z/slow3000-a', 'z/pass-b', 'z/slow20000-keepalive'];
  // timings off: no cost-based sizing, so every batch from the primary queue holds batch-size tests, in the listed order.
  const controller = s.controller(tests, { 'batch-size': '2', 'heartbeat-ttl': '3', timings: 'false' });
  const w1 = s.worker('w1');
  const held = await s.startedBy('w1', (id) => id.includes('slow3000-a'));
  expect(held.ids.sort()).toEqual(['z/pass-b', 'z/slow3000-a']);
  // Freeze the whole job: the worker and its batch.
  killTree(w1.pid, 'SIGSTOP');
  killTree(held.pgid, 'SIGSTOP');
  const w2 = s.worker('w2');
  await s.startedBy('w2', (id) => id.includes('keepalive'));
  const w3 = s.worker('w3');
  // w3 runs w1's reclaimed tests alone.
  await waitFor(
    'w3 to re-run w1\'s tests',
    () => {
      const ended = s.events().runners.filter((r) => r.worker === 'w3').flatMap((r) => r.ended.map((e) => e.id));
      return held.ids.every((id) => ended.includes(id));
    },
    30_000,
    100,
  );
  // Thaw: the batch finishes and w1 reports results for tests that are final already.
  killTree(held.pgid, 'SIGCONT');
  killTree(w1.pid, 'SIGCONT');
  await waitFor('the thawed batch to end', () => readEvents(s.stateDir).byPid(held.pid)?.exitCode !== undefined || !isAlive(held.pid), 10_000, 100);

  await waitFor('the controller to exit', () => controller.exit, 40_000, 100);
  await s.allExited(15_000);
  expect(controller.exit).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('passed');
  for (const id of held.ids) {
    const t = s.test(report, id);
    expect(t.runs.map((r) => [r.worker, r.outcome]), id).toEqual([
      ['w1', 'lost'],
      ['w3', 'passed'],
    ]);
  }
  // It rejoined and went on: alive at completion, so finished, and every test it ran passed in the end.
  expect(report.workers.find((w) => w.id === 'w1')).toMatchObject({ state: 'finished' });
  expect(w1.exit).toEqual({ code: 0, signal: null });
  expect(w2.exit).toEqual({ code: 0, signal: null });
  expect(w3.exit).toEqual({ code: 0, signal: null });
});

test('a frozen worker thawing while its tests wait in the requeue: each test still ends exactly once', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'frozen2');
  const tests = ['y/slow2000-a', 'y/pass-b', 'y/slow15000-keepalive'];
  // timings off: no cost-based sizing, so every batch from the primary queue holds batch-size tests, in the listed order.
  const controller = s.controller(tests, { 'batch-size': '2', 'heartbeat-ttl': '2', timings: 'false' });
  const w1 = s.worker('w1');
  const held = await s.startedBy('w1', (id) => id.includes('slow2000-a'));
  killTree(w1.pid, 'SIGSTOP');
  killTree(held.pgid, 'SIGSTOP');
  s.worker('w2');
  await s.startedBy('w2', (id) => id.includes('keepalive'));
  // Nobody is free to take w1's tests once reclaimed; thaw w1 well past heartbeat-ttl (that wait is the point).
  const frozenAt = Date.now();
  await waitFor('heartbeat-ttl to pass, twice over', () => Date.now() - frozenAt > 5_000, 10_000, 100);
  killTree(held.pgid, 'SIGCONT');
  killTree(w1.pid, 'SIGCONT');
  await waitFor('the controller to exit', () => controller.exit, 40_000, 100);
  await s.allExited(15_000);
  expect(controller.exit).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('passed');
  expect(report.counts.passed).toBe(3);
  // Nobody was free to re-run them: w1's late results were accepted (rule 3) and took them out of the requeue.
  for (const id of held.ids) {
    expect(s.test(report, id).runs.map((r) => [r.worker, r.batch, r.outcome]), id).toEqual([
      ['w1', held.env.SHARDLESS_BATCH, 'lost'],
      ['w1', held.env.SHARDLESS_BATCH, 'passed'],
    ]);
  }
  expect(w1.exit).toEqual({ code: 0, signal: null });
});

test('a restarted run (same run-id) fences the old start\'s worker', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'epoch');
  const oldTests = ['old/slow3000-x', 'old/pass-y'];
  const c1 = s.controller(oldTests, { 'batch-size': '2', timings: 'false' });
  s.worker('w1');
  const held = await s.startedBy('w1', (id) => id.includes('slow3000-x'));
  killTree(c1.pid, 'SIGKILL');
  await waitFor('the first controller to die', () => c1.exit, 5_000);
  // A second start of the same run id, with other tests.
  const newTests = ['new/pass-1', 'new/pass-2', 'new/slow4000-3'];
  const c2 = startAction(
    {
      mode: 'controller',
      ...s.common(),
      tests: newTests.join('\n'),
      'heartbeat-ttl': '3',
      'no-worker-timeout': '60',
      'report-output': s.reportPath,
    },
    { FAKE_STATE_DIR: s.stateDir },
    { name: 'controller 2' },
  );
  s.runs.push(c2);
  const w2 = startAction({ mode: 'worker', ...s.common(), command: fakeCommand(true), 'worker-id': 'w2' }, { FAKE_STATE_DIR: s.stateDir }, { name: 'worker w2' });
  s.runs.push(w2);
  // The old batch ends and w1 tries to report it to the restarted run.
  await waitFor('the old batch to end', () => readEvents(s.stateDir).byPid(held.pid)?.exitCode !== undefined || !isAlive(held.pid), 15_000, 100);
  await waitFor('the second controller to exit', () => c2.exit, 45_000, 100);
  expect(c2.exit).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, newTests);
  expect(report.counts).toMatchObject({ total: 3, passed: 3 });
  // Nothing of the old start leaked into the new one (checkReport: exactly the new tests, each once).
  expect(report.tests.some((t) => t.id.startsWith('old/'))).toBe(false);
});

test('a restarted run (same run-id, same tests): the old start\'s late results do not count', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'epoch2');
  const tests = ['e/slow3000-x', 'e/pass-y', 'e/pass-z'];
  // timings off: no cost-based sizing, so every batch from the primary queue holds batch-size tests, in the listed order.
  const c1 = s.controller(tests, { 'batch-size': '2', timings: 'false' });
  const w1 = s.worker('w1');
  const held = await s.startedBy('w1', (id) => id.includes('slow3000-x'));
  expect(held.ids.sort()).toEqual(['e/pass-y', 'e/slow3000-x']);
  killTree(c1.pid, 'SIGKILL');
  await waitFor('the first controller to die', () => c1.exit, 5_000);
  // Runners logged from here on belong to the second start.
  const mark = s.events().lines.length;
  const c2 = s.controller(tests, { 'batch-size': '5', timings: 'false' });
  // The old batch ends while the restarted run has its tests queued (neither held nor final): w1's report of
  // that old batch must be fenced by the epoch, so the tests have to be run again.
  await waitFor('the old batch to end', () => readEvents(s.stateDir).byPid(held.pid)?.exitCode !== undefined || !isAlive(held.pid), 15_000, 100);
  await waitFor('the second controller to exit', () => c2.exit, 45_000, 100);
  await s.allExited(15_000);
  expect(c2.exit).toEqual({ code: 0, signal: null });
  expect(w1.exit).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.counts).toMatchObject({ total: 3, passed: 3 });
  // Every run in the report is a run of the second start: as many as the command ran after the restart.
  const after = s.events().runners.filter((r) => r.seq >= mark);
  for (const t of report.tests) {
    const ranAfter = after.filter((r) => r.ended.some((e) => e.id === t.id)).length;
    expect(t.runs.length, `${t.id}: runs in the report vs. runs of the restarted run`).toBe(ranAfter);
  }
  await expectAllKeysExpire(redis);
});
