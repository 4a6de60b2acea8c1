// Chaos 6: load. 64 workers and 10,000 tests through one Redis, with a command that costs nothing (`true`,
// batch-size 50), so what is measured is the queue, the workers' loops and the controller. Records the wall
// time and the controller's peak RSS (VmHWM of its process, read at its exit by a preloaded hook and
// polled meanwhile) and checks every invariant.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { ROOT } from '../helpers/action.js';
import { Scenario, waitFor, useRedisServer } from '../e2e/harness.js';
import { checkInvariants, lastLine, printFigures, runPrefix, sleep, vmHWMkB } from './lib.js';

const WORKERS = Number(process.env.CHAOS_LOAD_WORKERS ?? 64);
const TESTS = Number(process.env.CHAOS_LOAD_TESTS ?? 10_000);
const RSS_LIMIT_MB = 300;

let redis: RedisServer;
useRedisServer((server) => (redis = server));

test(`load: ${WORKERS} workers, ${TESTS} tests through one Redis; the controller's memory stays bounded`, async () => {
  const s = new Scenario(redis, 'load');
  const tests = Array.from({ length: TESTS }, (_, i) => `load/suite-${Math.floor(i / 100)}/t-${String(i).padStart(5, '0')}.test.ts`);
  const testsFile = join(s.dir, 'tests.txt');
  writeFileSync(testsFile, `${tests.join('\n')}\n`);
  // The controller's VmHWM at exit, written by a preloaded hook (its 'exit' handler runs after the report).
  const hwmFile = join(s.dir, 'controller-hwm.txt');
  const controllerEnv = { NODE_OPTIONS: `--require ${join(ROOT, 'test', 'chaos', 'hwm-at-exit.cjs')}`, CHAOS_HWM_FILE: hwmFile };

  // The workers start first and wait for the controller, so every one of them joins the run (one that
  // came after the last batch would find the run complete and leave without registering).
  const t0 = Date.now();
  const workers = Array.from({ length: WORKERS }, (_, i) => s.worker(`L${i + 1}`, { command: 'true' }));
  await waitFor('every worker to wait for the controller', () => workers.every((w) => w.output().includes('Waiting for the controller')), 120_000, 200);
  const controller = s.controller([], {
    'tests-file': testsFile,
    'batch-size': '50',
    'heartbeat-ttl': '10',
    'no-worker-timeout': '120',
    timeout: '240',
  }, controllerEnv);
  let polledHwmKb = 0;
  let redisPeak = 0;
  const poll = setInterval(() => {
    polledHwmKb = Math.max(polledHwmKb, vmHWMkB(controller.pid));
    redisPeak = Math.max(redisPeak, vmHWMkB(redis.proc!.pid!));
  }, 100);
  try {
    await waitFor('the controller to exit', () => controller.exit, 240_000, 200);
  } finally {
    clearInterval(poll);
  }
  const wallMs = controller.exitedAt! - t0;
  await waitFor('every worker to exit', () => workers.every((w) => !w.running()), 60_000, 200);
  const lastWorkerMs = Math.max(...workers.map((w) => w.exitedAt!)) - t0;
  await sleep(100);

  expect(controller.exit, lastLine(controller)).toEqual({ code: 0, signal: null });
  for (const w of workers) expect(w.exit, `${w.name}: ${lastLine(w)}`).toEqual({ code: 0, signal: null });
  const { report, state, figures } = await checkInvariants(s, tests, { maxAttempts: 3, complete: true, noLost: true });
  expect(report.status).toBe('passed');
  expect(report.counts.passed).toBe(TESTS);
  // Every worker joined the run and finished in it. Not every one need take a batch (most do).
  expect(report.workers.map((w) => w.id).sort(), 'every worker registered').toEqual(workers.map((_, i) => `L${i + 1}`).sort());
  for (const w of report.workers) expect(w.state, w.id).toBe('finished');
  expect(report.workers.reduce((n, w) => n + w.batches, 0), 'batches of the workers vs leases').toBe(state.leases.length);
  const busy = new Set(state.leases.map((l) => l.w));

  expect(existsSync(hwmFile), 'the exit hook wrote the controller\'s VmHWM').toBe(true);
  const exitHwmKb = Number(readFileSync(hwmFile, 'utf8').trim());
  const peakMb = Math.max(exitHwmKb, polledHwmKb) / 1024;
  expect(peakMb, 'controller peak RSS (MB)').toBeLessThan(RSS_LIMIT_MB);
  const c = redis.client();
  let redisUsedMb = 0;
  try {
    const info = await c.info('memory');
    redisUsedMb = Number(/used_memory_peak:(\d+)/.exec(info)?.[1] ?? 0) / 2 ** 20;
    expect((await c.hget(`${runPrefix(s)}meta`, 'state'))).toBe('complete');
  } finally {
    c.disconnect();
  }
  printFigures('load', {
    workers: WORKERS, batchSize: 50, wallSeconds: +(wallMs / 1000).toFixed(1),
    lastWorkerExitSeconds: +(lastWorkerMs / 1000).toFixed(1), reportDurationSeconds: +(report.durationMs / 1000).toFixed(1),
    controllerPeakRssMB: +peakMb.toFixed(1), controllerHwmAtExitMB: +(exitHwmKb / 1024).toFixed(1),
    controllerHwmPolledMB: +(polledHwmKb / 1024).toFixed(1), redisPeakRssMB: +(redisPeak / 1024).toFixed(1),
    redisUsedMemoryPeakMB: +redisUsedMb.toFixed(1), workersWithBatches: busy.size, ...figures,
  });
});
