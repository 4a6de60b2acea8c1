// End-to-end: bad days that used to lose tests, through the bundled action. A batch of 10,000 tests
// (past Lua's unpack limit), two jobs given the same worker-id, Redis paused past heartbeat-ttl with
// healthy workers mid-batch, and Redis refusing the controller's tick for a while.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runKeys } from '../../src/queue/keys.js';
import type { RedisServer } from '../helpers/redis-server.js';
import { Scenario, checkReport, expectAllKeysExpire, lastLine, waitFor, useRedisServer } from './harness.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('batch-size 10,000 over 25,000 tests: every batch is claimed and reported, all passed', { timeout: 120_000 }, async () => {
  const s = new Scenario(redis, 'big');
  const tests = Array.from({ length: 25_000 }, (_, i) => `big/t-${String(i).padStart(5, '0')}`);
  const testsFile = join(s.dir, 'tests.txt');
  writeFileSync(testsFile, `${tests.join('\n')}\n`);
  const controller = s.controller([], { 'tests-file': testsFile, 'batch-size': '10000', timings: 'false' });
  // `true` passes every test of its batch (exit 0, no JUnit): the ids need not fit on a command line.
  const worker = s.worker('w1', { command: 'true' });
  await waitFor('the controller to exit', () => controller.exit, 100_000, 200);
  await s.allExited(15_000);
  expect(worker.exit, lastLine(worker.output())).toEqual({ code: 0, signal: null });
  expect(controller.exit, lastLine(controller.output())).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.counts).toMatchObject({ total: 25_000, passed: 25_000, lost: 0, notRun: 0 });
  expect(report.workers).toEqual([expect.objectContaining({ id: 'w1', batches: 3, tests: 25_000, lostBatches: 0 })]);
});

test('two live workers given the same worker-id: the second runs under another id, no test is lost', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'twins');
  const tests = Array.from({ length: 6 }, (_, i) => `tw/slow1500-${i + 1}`);
  const controller = s.controller(tests, { 'batch-size': '1', timings: 'false' });
  const a = s.worker('w1');
  await s.startedBy('w1', () => true);
  const b = s.worker('w1');
  await waitFor('the controller to exit', () => controller.exit, 60_000, 100);
  await s.allExited(15_000);
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.counts).toMatchObject({ passed: 6, lost: 0 });
  for (const t of report.tests) expect(t.runs.map((r) => r.outcome), t.id).toEqual(['passed']);
  expect(controller.exit, lastLine(controller.output())).toEqual({ code: 0, signal: null });
  for (const w of [a, b]) expect(w.exit, lastLine(w.output())).toEqual({ code: 0, signal: null });
  // The second one says so, and both did work under their own ids.
  expect(b.output()).toMatch(/worker-id w1 is in use by another live worker .*this worker runs as w1-2/);
  expect(report.workers.map((w) => w.id).sort()).toEqual(['w1', 'w1-2']);
  for (const w of report.workers) expect(w, w.id).toMatchObject({ state: 'finished', lostBatches: 0 });
  expect(report.workers.every((w) => w.batches > 0)).toBe(true);
});

test('Redis paused past heartbeat-ttl with healthy workers mid-batch: none is reaped, no attempt charged', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'pause');
  const tests = Array.from({ length: 4 }, (_, i) => `pz/slow5000-${i + 1}`);
  const controller = s.controller(tests, { 'batch-size': '1', 'heartbeat-ttl': '2', timings: 'false' });
  const workers = [s.worker('w1'), s.worker('w2')];
  await s.startedBy('w1', () => true);
  await s.startedBy('w2', () => true);
  // Every heartbeat key expires while Redis is stopped; the workers and their batches are fine.
  redis.proc!.kill('SIGSTOP');
  await sleep(3_500);
  redis.proc!.kill('SIGCONT');
  await waitFor('the controller to exit', () => controller.exit, 60_000, 100);
  await s.allExited(15_000);
  const report = s.report();
  checkReport(report, s, tests);
  for (const t of report.tests) expect(t.runs.map((r) => r.outcome), t.id).toEqual(['passed']);
  for (const w of report.workers) expect(w, w.id).toMatchObject({ state: 'finished', lostBatches: 0 });
  expect(controller.output()).not.toMatch(/stopped heartbeating/);
  expect(controller.exit, lastLine(controller.output())).toEqual({ code: 0, signal: null });
  for (const w of workers) expect(w.exit, lastLine(w.output())).toEqual({ code: 0, signal: null });
});

test('Redis refusing the controller\'s tick for a while (out of memory): logged and retried, the run completes', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'oom');
  const tests = ['oom/pass-1', 'oom/pass-2', 'oom/pass-3'];
  const controller = s.controller(tests, { 'heartbeat-ttl': '2' });
  const c = redis.client();
  try {
    await waitFor('the run to start', async () => (await c.hget(runKeys('local', s.queue, s.runId).meta, 'state')) === 'running', 20_000);
    // Every write is refused: reap.lua fails from its first write on.
    await c.config('SET', 'maxmemory', '1');
    await waitFor('the controller to retry its tick', () => /tick \(reap\) failed .*retrying/.test(controller.output()), 20_000, 100);
    await sleep(1_500);
    expect(controller.running(), 'the controller keeps going').toBe(true);
  } finally {
    await c.config('SET', 'maxmemory', '0');
    c.disconnect();
  }
  const worker = s.worker('w1');
  await waitFor('the controller to exit', () => controller.exit, 60_000, 100);
  await s.allExited(15_000);
  expect(controller.exit, lastLine(controller.output())).toEqual({ code: 0, signal: null });
  expect(worker.exit, lastLine(worker.output())).toEqual({ code: 0, signal: null });
  checkReport(s.report(), s, tests);
  expect(s.report().counts.passed).toBe(3);
  await expectAllKeysExpire(redis);
});
