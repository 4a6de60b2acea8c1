// Chaos 5: the controller's side.
//  - the controller SIGKILLed mid-run (no-worker-timeout 5): its workers notice that it stopped
//    heartbeating and exit non-zero within a bounded time, saying the controller is gone;
//  - every worker SIGKILLed (with its process tree) while work remains: the controller aborts after
//    no-worker-timeout (4 s), writes a report that lists the tests not run, and exits 1.

import { expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { Scenario, waitFor, useRedisServer } from '../e2e/harness.js';
import { checkInvariants, descendants, doneCount, isLive, killJob, lastLine, printFigures, scanKeys } from './lib.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server));

test('the controller SIGKILLed mid-run: every worker exits 1 within 20 s, naming the controller', async () => {
  const s = new Scenario(redis, 'ctlkill');
  // About 40 s of work for 3 workers: it cannot finish without the controller before they give up.
  const tests = Array.from({ length: 120 }, (_, i) => `ck/slow${600 + (i % 5) * 100}-${i}`);
  const controller = s.controller(tests, { 'batch-size': '2', 'heartbeat-ttl': '2', 'no-worker-timeout': '5' });
  const workers = ['w1', 'w2', 'w3'].map((id) => s.worker(id));
  await waitFor('some progress', async () => (await doneCount(s)) >= 10, 60_000, 100);
  const t0 = Date.now();
  killJob(controller.pid);
  await waitFor('the controller to die', () => controller.exit, 5_000, 50);
  await waitFor('every worker to exit', () => workers.every((w) => !w.running()), 30_000, 100).catch(() => undefined);
  expect(workers.filter((w) => w.running()).map((w) => w.name), 'workers still running 30 s after the controller died').toEqual([]);
  const exitMs: Record<string, number> = {};
  for (const w of workers) {
    exitMs[w.name] = w.exitedAt! - t0;
    expect(w.exit, `${w.name}: ${lastLine(w)}`).toEqual({ code: 1, signal: null });
    expect(w.exitedAt! - t0, `${w.name} gave up in bounded time`).toBeLessThan(20_000);
    expect(lastLine(w), w.name).toMatch(/^::error::.*controller/);
    // It killed its batch and left nothing behind.
    expect(descendants(w.pid).filter(isLive), `${w.name} left processes`).toEqual([]);
  }
  // The workers kept writing after the controller died: nothing without a TTL (invariant 6).
  const c = redis.client();
  try {
    const keys = await scanKeys(c);
    const ttls = await Promise.all(keys.map((k) => c.pttl(k)));
    expect(keys.filter((_, i) => ttls[i] === -1), 'keys without a TTL').toEqual([]);
  } finally {
    c.disconnect();
  }
  const left = tests.length - (await doneCount(s));
  expect(left, 'work remained when they gave up').toBeGreaterThan(0);
  printFigures('controller-killed', { noWorkerTimeout: 5, heartbeatTtl: 2, exitMsAfterKill: exitMs, testsLeft: left, lastLine: lastLine(workers[0]) });
});

test('every worker SIGKILLed while work remains: the controller fails after no-worker-timeout, reporting the tests not run', async () => {
  const s = new Scenario(redis, 'allkilled');
  const tests = Array.from({ length: 60 }, (_, i) => (i % 2 ? `ak/pass-${i}` : `ak/slow${300 + (i % 7) * 100}-${i}`));
  const controller = s.controller(tests, { 'batch-size': '3', 'heartbeat-ttl': '2', 'no-worker-timeout': '4', 'max-attempts': '3' });
  const workers = ['w1', 'w2', 'w3'].map((id) => s.worker(id));
  await waitFor('some progress', async () => (await doneCount(s)) >= 10, 60_000, 100);
  const t0 = Date.now();
  for (const w of workers) killJob(w.pid);
  await waitFor('the workers to die', () => workers.every((w) => !w.running()), 5_000, 50);
  const doneAtKill = await doneCount(s);
  await waitFor('the controller to exit', () => controller.exit, 30_000, 100);
  const exitMs = controller.exitedAt! - t0;
  // heartbeat-ttl (the workers are presumed dead) + no-worker-timeout + a tick or two and the report.
  expect(exitMs, 'the controller gives up in bounded time').toBeLessThan(2_000 + 4_000 + 5_000);
  expect(exitMs, 'not before no-worker-timeout').toBeGreaterThanOrEqual(4_000);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  expect(lastLine(controller)).toMatch(/no-worker-timeout/);
  expect(lastLine(controller)).toMatch(/not run/);

  const { report, figures } = await checkInvariants(s, tests, { maxAttempts: 3, complete: false, noLost: true });
  expect(report.status).toBe('incomplete');
  const notRun = report.tests.filter((t) => t.status === 'not-run');
  expect(notRun.length).toBe(tests.length - doneAtKill);
  expect(report.counts.notRun).toBe(notRun.length);
  expect(controller.outputs()['not-run']).toBe(String(notRun.length));
  // What the killed workers held shows as a lost run of a test that is still not run.
  const heldAtKill = notRun.filter((t) => t.runs.some((r) => r.outcome === 'lost'));
  expect(heldAtKill.length).toBeGreaterThan(0);
  for (const w of report.workers) expect(w.state, w.id).toBe('dead');
  printFigures('all-workers-killed', { noWorkerTimeout: 4, heartbeatTtl: 2, controllerExitMsAfterKill: exitMs, notRun: notRun.length, heldAtKill: heldAtKill.length, lastLine: lastLine(controller), ...figures });
});
