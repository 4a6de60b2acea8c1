// Chaos 2 and 3: Redis itself fails under a running run.
//  - restarted WITH persistence (AOF, fsync always): once SIGKILLed and back at once, once SIGTERMed and
//    down past heartbeat-ttl; every process reconnects on its own and the run completes with the invariants;
//  - restarted from a snapshot taken a moment earlier (the last writes lost): workers whose leases Redis
//    forgot rejoin, and the run completes with 0 lost;
//  - restarted WITHOUT persistence (the run's state is gone), and the run's keys DELeted mid-run: every
//    process notices and exits 1 with a message saying the run's state disappeared, in bounded time.

import { afterAll, afterEach, expect, test } from 'vitest';
import { RedisServer } from '../helpers/redis-server.js';
import { type ActionRun, removeTempDirs } from '../helpers/action.js';
import { Scenario, cleanup, waitFor } from '../e2e/harness.js';
import { checkInvariants, descendants, isLive, lastLine, printFigures, runPrefix, scanKeys, sleep } from './lib.js';

const servers: RedisServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  removeTempDirs();
});
afterEach(cleanup);

async function server(args: string[] = []): Promise<RedisServer> {
  const s = await RedisServer.start(args);
  servers.push(s);
  return s;
}

const testList = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => (i % 3 === 0 ? `${prefix}/pass-${i}` : `${prefix}/slow${100 + ((i * 37) % 200)}-${i}`));

async function progress(s: Scenario): Promise<number> {
  const c = s.redis.client();
  try {
    return Number((await c.hget(`${runPrefix(s)}meta`, 'done')) ?? 0);
  } finally {
    c.disconnect();
  }
}

/** 160 tests over 4 workers (batch-size 4, heartbeat-ttl 3, max-attempts 3), a quarter of them done. */
async function quarterDone(redis: RedisServer, name: string) {
  const s = new Scenario(redis, name);
  const tests = testList(name, 160);
  const t0 = Date.now();
  const controller = s.controller(tests, { 'batch-size': '4', 'heartbeat-ttl': '3', 'max-attempts': '3' });
  const workers = ['w1', 'w2', 'w3', 'w4'].map((id) => s.worker(id));
  await waitFor('a quarter of the run to be done', async () => (await progress(s)) >= 40, 60_000, 100);
  return { s, tests, t0, controller, workers };
}

/** The run ends as if nothing had happened: every process exits 0, every test passed, every invariant holds. */
async function expectAllPassed(s: Scenario, controller: ActionRun, workers: ActionRun[], tests: string[], t0: number) {
  await waitFor('the controller to exit', () => controller.exit, 120_000, 200);
  const runMs = controller.exitedAt! - t0;
  await s.allExited(30_000);
  expect(controller.exit, lastLine(controller)).toEqual({ code: 0, signal: null });
  for (const w of workers) expect(w.exit, `${w.name}: ${lastLine(w)}`).toEqual({ code: 0, signal: null });
  const { report, figures } = await checkInvariants(s, tests, { maxAttempts: 3, complete: true, noLost: true });
  expect(report.status).toBe('passed');
  expect(report.counts.passed).toBe(tests.length);
  return { runSeconds: +(runMs / 1000).toFixed(1), ...figures };
}

test('Redis restarted with persistence (SIGKILL, then SIGTERM past heartbeat-ttl): everyone reconnects, the run completes', async () => {
  const redis = await server(['--appendonly', 'yes', '--appendfsync', 'always']);
  const { s, tests, t0, controller, workers } = await quarterDone(redis, 'aof');
  // Outage 1: SIGKILL (no shutdown), back within a second: shorter than heartbeat-ttl.
  let down = Date.now();
  await redis.stop('SIGKILL');
  await sleep(800);
  await redis.restart();
  const outage1Ms = Date.now() - down;
  const doneAfter1 = await progress(s);
  expect(doneAfter1, 'the run survived in the AOF').toBeGreaterThanOrEqual(40);

  // Outage 2: SIGTERM (clean shutdown), down 6 s: past heartbeat-ttl, so every worker is reaped when Redis
  // is back, and their batches' results are late.
  await waitFor('more progress after the first restart', async () => (await progress(s)) >= doneAfter1 + 30, 60_000, 100);
  down = Date.now();
  await redis.stop('SIGTERM');
  await sleep(6_000);
  await redis.restart();
  const outage2Ms = Date.now() - down;

  const figures = await expectAllPassed(s, controller, workers, tests, t0);
  printFigures('redis-restart-aof', { outage1Ms, outage2Ms, workers: workers.length, ...figures });
});

test('Redis restarted from a snapshot taken a moment earlier (its last writes lost): everyone rejoins, 0 lost, each test final once', async () => {
  // As with appendfsync everysec, or an RDB snapshot: the restarted Redis lacks the last writes, so
  // workers report leases it never heard of, and hold leases it thinks are still active.
  const redis = await server();
  const { s, tests, t0, controller, workers } = await quarterDone(redis, 'snapshot');
  const c = redis.client();
  let atSnapshot: number;
  try {
    await c.save();
    atSnapshot = Number(await c.hget(`${runPrefix(s)}meta`, 'done'));
  } finally {
    c.disconnect();
  }
  // More progress after the snapshot: results, claims and leases that the restart will forget.
  await waitFor('progress after the snapshot', async () => (await progress(s)) >= atSnapshot + 16, 60_000, 50);
  const beforeKill = await progress(s);
  await redis.stop('SIGKILL');
  await redis.restart();
  const afterRestart = await progress(s);
  expect(afterRestart, 'the restarted Redis holds the snapshot, not the later writes').toBeLessThan(beforeKill);

  const figures = await expectAllPassed(s, controller, workers, tests, t0);
  const rejoined = workers.filter((w) => /unknown to Redis/.test(w.output())).length;
  printFigures('redis-restart-snapshot', { atSnapshot, beforeKill, afterRestart, rejoined, ...figures });
});

/** Starts a run of 4 workers, waits for progress, applies `fault`, and checks that all exit 1 in bounded time saying why. */
async function stateLoss(name: string, fault: (s: Scenario, redis: RedisServer) => Promise<void>) {
  const redis = await server();
  const s = new Scenario(redis, name);
  const tests = testList(name, 200);
  const controller = s.controller(tests, { 'batch-size': '4', 'heartbeat-ttl': '3' });
  const workers = ['w1', 'w2', 'w3', 'w4'].map((id) => s.worker(id));
  await waitFor('some progress', async () => (await progress(s)) >= 30, 60_000, 100);
  const t0 = Date.now();
  await fault(s, redis);
  const all = [controller, ...workers];
  await waitFor('every process to exit', () => all.every((r) => !r.running()), 30_000, 100).catch(() => undefined);
  const still = all.filter((r) => r.running()).map((r) => r.name);
  expect(still, 'processes still running 30 s after the state was lost').toEqual([]);
  const exitMs = Object.fromEntries(all.map((r) => [r.name, r.exitedAt! - t0]));
  for (const r of all) {
    expect(r.exit, `${r.name}: ${lastLine(r)}`).toEqual({ code: 1, signal: null });
    expect(r.exitedAt! - t0, r.name).toBeLessThan(30_000);
    // One clear line: the run's state is gone (not a stack trace, not a timeout).
    expect(lastLine(r), r.name).toMatch(/^::error::.*(disappeared|keys were deleted|reset)/);
  }
  for (const w of workers) expect(lastLine(w), w.name).toMatch(/disappeared from Redis/);
  // Nothing a batch started is left behind.
  for (const r of all) expect(descendants(r.pid).filter(isLive), `${r.name} left processes`).toEqual([]);
  // Nothing was written back without a TTL by the processes that kept going for a while (invariant 6).
  const c = redis.client();
  try {
    const keys = await scanKeys(c);
    const ttls = await Promise.all(keys.map((k) => c.pttl(k)));
    expect(keys.filter((_, i) => ttls[i] === -1), 'keys without a TTL after the state loss').toEqual([]);
    expect(await scanKeys(c, `${runPrefix(s).replace(/[*?[\]\\]/g, (x) => `\\${x}`)}meta`), 'no meta recreated').toEqual([]);
  } finally {
    c.disconnect();
  }
  printFigures(name, { exitMsAfterFault: exitMs, lastLines: Object.fromEntries(all.map((r) => [r.name, lastLine(r)])) });
}

test('Redis restarted without persistence: every process exits 1 within 30 s saying the run\'s state disappeared', async () => {
  await stateLoss('nopersist', async (_s, redis) => {
    await redis.stop('SIGKILL');
    await redis.restart();
  });
});

test('the run\'s keys deleted mid-run: every process exits 1 within 30 s saying the run\'s state disappeared', async () => {
  await stateLoss('delkeys', async (s, redis) => {
    const c = redis.client();
    try {
      const prefix = runPrefix(s);
      const keys = await scanKeys(c, `${prefix.replace(/[*?[\]\\]/g, (x) => `\\${x}`)}*`);
      expect(keys.length).toBeGreaterThan(5);
      // One DEL: every key of the run at once, as an operator (or an eviction of the whole run) would.
      await c.del(...keys);
    } finally {
      c.disconnect();
    }
  });
});

test('the run\'s keys deleted while every worker is in a long batch: the workers stop within 30 s, not at the batch\'s end', async () => {
  const redis = await server();
  const s = new Scenario(redis, 'dellong');
  // Batches of one 90 s test: a worker that waits for its batch to end before it looks again hangs 90 s.
  const tests = Array.from({ length: 6 }, (_, i) => `dl/slow90000-${i}`);
  const controller = s.controller(tests, { 'batch-size': '1', 'heartbeat-ttl': '3' });
  const workers = ['w1', 'w2'].map((id) => s.worker(id));
  await waitFor('both workers to be in a batch', () => new Set(s.events().runners.filter((r) => r.started.length).map((r) => r.worker)).size === 2, 30_000, 100);
  const t0 = Date.now();
  const c = redis.client();
  try {
    const keys = await scanKeys(c, `${runPrefix(s).replace(/[*?[\]\\]/g, (x) => `\\${x}`)}*`);
    await c.del(...keys);
  } finally {
    c.disconnect();
  }
  const all = [controller, ...workers];
  await waitFor('every process to exit', () => all.every((r) => !r.running()), 30_000, 100).catch(() => undefined);
  const still = all.filter((r) => r.running()).map((r) => r.name);
  printFigures('dellong', { exitMsAfterFault: Object.fromEntries(all.map((r) => [r.name, r.exitedAt ? r.exitedAt - t0 : 'running'])), still });
  expect(still, 'processes still running 30 s after the run\'s state disappeared').toEqual([]);
  for (const r of all) expect(r.exit, `${r.name}: ${lastLine(r)}`).toEqual({ code: 1, signal: null });
  for (const w of workers) expect(lastLine(w), w.name).toMatch(/disappeared from Redis/);
  for (const r of all) expect(descendants(r.pid).filter(isLive), `${r.name} left processes`).toEqual([]);
});
