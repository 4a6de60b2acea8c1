// End-to-end: a worker killed with its process tree mid-batch loses nothing, and workers that start before the
// controller wait for it, and stay to pick up a dead peer's tests.

import { expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { isAlive, killWorkerTree } from '../helpers/action.js';
import { Scenario, checkReport, expectAllKeysExpire, expectCountOutputs, waitFor, useRedisServer } from './harness.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server));

test('a worker SIGKILLed mid-batch with its process tree: its tests come back, run alone and pass elsewhere', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'sigkill');
  const tests = ['b/slow8000-victim', ...Array.from({ length: 11 }, (_, i) => `b/pass-${String(i + 1).padStart(2, '0')}`)];
  const controller = s.controller(tests, { 'batch-size': '4', 'heartbeat-ttl': '3' });
  const w1 = s.worker('w1');

  // w1 alone first, so that it is the one holding the slow test.
  const held = await s.startedBy('w1', (id) => id.includes('slow8000'));
  expect(held.ids.length).toBeGreaterThanOrEqual(1);
  const w2 = s.worker('w2');
  const w3 = s.worker('w3');

  killWorkerTree(w1, s.stateDir, 'w1', 'SIGKILL');
  await waitFor('w1 to die', () => w1.exit, 5_000);
  await waitFor('w1 batch processes to die', () => !isAlive(held.pid), 5_000);

  await waitFor('the controller to exit', () => controller.exit, 60_000, 100);
  await s.allExited(15_000);

  expect(w1.exit).toEqual({ code: null, signal: 'SIGKILL' });
  expect(controller.exit).toEqual({ code: 0, signal: null });
  expect(w2.exit).toEqual({ code: 0, signal: null });
  expect(w3.exit).toEqual({ code: 0, signal: null });

  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('passed');
  expect(report.counts).toEqual({ total: 12, passed: 12, failed: 0, flaky: 0, lost: 0, skipped: 0, notRun: 0 });
  const outputs = controller.outputs();
  expectCountOutputs(outputs, report, s);
  expect(outputs.lost).toBe('0');
  expect(outputs['lost-tests'] ?? '').toBe('');

  // Every test w1 held in the killed batch: first run lost (by w1), then run alone by another worker.
  for (const id of held.ids) {
    const t = s.test(report, id);
    expect(t.status, id).toBe('passed');
    expect(t.runs, id).toHaveLength(2);
    expect(t.runs[0], id).toMatchObject({ worker: 'w1', outcome: 'lost', isolated: held.env.SHARDLESS_ISOLATED === 'true' });
    expect(t.runs[1], id).toMatchObject({ outcome: 'passed', isolated: true });
    expect(['w2', 'w3'], id).toContain(t.runs[1].worker);
  }
  for (const id of tests.filter((t) => !held.ids.includes(t))) {
    const t = s.test(report, id);
    expect(t.runs.map((r) => r.outcome), id).toEqual(['passed']);
  }
  const rw1 = report.workers.find((w) => w.id === 'w1');
  expect(rw1).toMatchObject({ state: 'dead' });
  expect(rw1!.lostBatches).toBeGreaterThanOrEqual(1);
  for (const id of ['w2', 'w3']) {
    const w = report.workers.find((x) => x.id === id);
    if (w) expect(w.state, id).toBe('finished');
  }
  expect(controller.summary().trim()).not.toBe('');
  await expectAllKeysExpire(redis);
});

test('workers started before the controller wait; an idle worker stays and runs a dead peer\'s requeued tests', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'early');
  // Two batches of 3: one long, one that takes 3 s, so that each of the two workers claims one of them.
  const tests = ['f/slow8000-long', 'f/pass-a1', 'f/pass-a2', 'f/slow3000-b1', 'f/pass-b2', 'f/pass-b3'];
  const w1 = s.worker('w1');
  const w2 = s.worker('w2');
  const t0 = Date.now();
  await waitFor(
    'the workers to wait for the controller',
    () => {
      const elapsed = Date.now() - t0;
      const saysWait = [w1, w2].every((w) => /wait/i.test(w.output()));
      return elapsed >= 1000 && (saysWait || elapsed >= 3000 || !w1.running() || !w2.running());
    },
    10_000,
  );
  expect(w1.running(), `w1 still waits:\n${w1.output()}`).toBe(true);
  expect(w2.running(), `w2 still waits:\n${w2.output()}`).toBe(true);
  expect(s.events().runners).toHaveLength(0);

  // timings off: no cost-based sizing, so every batch from the primary queue holds batch-size tests, in the listed order.
  const controller = s.controller(tests, { 'batch-size': '3', 'heartbeat-ttl': '3', timings: 'false' });
  const long = await waitFor('a worker to start the long test', () => s.events().runners.find((r) => r.started.some((t) => t.includes('slow8000'))), 20_000);
  const longWorker = long.worker;
  const idleWorker = longWorker === 'w1' ? 'w2' : 'w1';
  expect(['w1', 'w2']).toContain(longWorker);
  // The other worker finishes its own batch and has nothing left to claim.
  const own = await waitFor(
    `${idleWorker} to finish its own batch`,
    () => s.events().runners.find((r) => r.worker === idleWorker && r.exitCode !== undefined),
    20_000,
  );
  expect(own.ids.sort()).toEqual(tests.filter((t) => !long.ids.includes(t)).sort());
  expect(long.exitCode).toBeUndefined();

  const longRun = longWorker === 'w1' ? w1 : w2;
  const idleRun = longWorker === 'w1' ? w2 : w1;
  killWorkerTree(longRun, s.stateDir, longWorker, 'SIGKILL');
  await waitFor(`${longWorker} to die`, () => longRun.exit, 5_000);

  await waitFor('the controller to exit', () => controller.exit, 60_000, 100);
  await s.allExited(15_000);
  expect(controller.exit).toEqual({ code: 0, signal: null });
  expect(idleRun.exit).toEqual({ code: 0, signal: null });

  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('passed');
  expect(report.counts).toEqual({ total: 6, passed: 6, failed: 0, flaky: 0, lost: 0, skipped: 0, notRun: 0 });
  expectCountOutputs(controller.outputs(), report, s);
  for (const id of long.ids) {
    const t = s.test(report, id);
    expect(t.runs, id).toHaveLength(2);
    expect(t.runs[0], id).toMatchObject({ worker: longWorker, outcome: 'lost' });
    expect(t.runs[1], id).toMatchObject({ worker: idleWorker, outcome: 'passed', isolated: true });
  }
  for (const id of own.ids) {
    expect(s.test(report, id).runs, id).toMatchObject([{ worker: idleWorker, outcome: 'passed' }]);
  }
  expect(idleRun.outputs()).toMatchObject({ batches: String(1 + long.ids.length), tests: String(tests.length), failed: '0' });
  expect(report.workers.find((w) => w.id === longWorker)).toMatchObject({ state: 'dead' });
  expect(report.workers.find((w) => w.id === idleWorker)).toMatchObject({ state: 'finished' });
});

test('many small batches over 4 workers, one killed mid-run: every test ends exactly once', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'many');
  const tests = Array.from({ length: 240 }, (_, i) => {
    const n = String(i).padStart(3, '0');
    if (i === 17) return `m/fail-${n}`;
    if (i === 101) return `m/flaky-${n}`;
    if (i % 40 === 5) return `m/slow700-${n}`;
    return `m/dir ${i % 7}/pass-${n}`;
  });
  const controller = s.controller(tests, { 'batch-size': '5', retries: '1' });
  const workers = ['w1', 'w2', 'w3', 'w4'].map((id) => s.worker(id));
  // Kill w2 with its tree once it is in its third batch.
  await waitFor('w2 to be in its third batch', () => s.events().runners.filter((r) => r.worker === 'w2' && r.started.length).length >= 3, 30_000);
  killWorkerTree(workers[1], s.stateDir, 'w2', 'SIGKILL');

  await waitFor('the controller to exit', () => controller.exit, 60_000, 100);
  await s.allExited(15_000);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.counts).toEqual({ total: 240, passed: 238, failed: 1, flaky: 1, lost: 0, skipped: 0, notRun: 0 });
  const outputs = controller.outputs();
  expectCountOutputs(outputs, report, s);
  expect(outputs['failed-tests']).toBe('m/fail-017');
  expect(outputs['flaky-tests']).toBe('m/flaky-101');
  // What w2 held when it died came back; nothing it had finished was run again.
  const w2runs = report.tests.flatMap((t) => t.runs.filter((r) => r.worker === 'w2').map((r) => ({ id: t.id, ...r })));
  const lostByW2 = w2runs.filter((r) => r.outcome === 'lost');
  expect(lostByW2.length).toBeGreaterThan(0);
  for (const r of lostByW2) expect(s.test(report, r.id).runs.at(-1)!.outcome).not.toBe('lost');
  expect(report.workers.find((w) => w.id === 'w2')).toMatchObject({ state: 'dead' });
  // The command ran each test exactly once, apart from retries and w2's lost batch.
  const ran = new Map<string, number>();
  for (const r of s.events().runners) for (const id of r.ids) ran.set(id, (ran.get(id) ?? 0) + 1);
  for (const t of report.tests) expect(ran.get(t.id), t.id).toBe(t.runs.length);
  await expectAllKeysExpire(redis);
});

test('Redis frozen for 2 s mid-run (SIGSTOP): the run recovers and completes', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'redispause');
  const tests = Array.from({ length: 30 }, (_, i) => (i % 10 === 0 ? `p/slow1500-${i}` : `p/pass-${i}`));
  const controller = s.controller(tests, { 'batch-size': '3', 'heartbeat-ttl': '5' });
  s.worker('w1');
  s.worker('w2');
  await waitFor('a few batches to run', () => s.events().runners.length >= 3, 20_000);
  const pid = redis.proc!.pid!;
  process.kill(pid, 'SIGSTOP');
  const frozenAt = Date.now();
  try {
    await waitFor('2 s of Redis frozen', () => Date.now() - frozenAt >= 2_000, 5_000, 50);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await waitFor('the controller to exit', () => controller.exit, 60_000, 100);
  await s.allExited(15_000);
  expect(controller.exit).toEqual({ code: 0, signal: null });
  for (const w of s.runs) expect(w.exit, w.name).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('passed');
  expect(report.counts.passed).toBe(30);
});
