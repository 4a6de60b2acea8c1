// End-to-end: when Redis is unreachable, the workers run static shares (README, "When Redis is down"):
// Redis down from the start (a port nobody listens on), and Redis killed mid-run. Every test runs; a
// worker never runs again a test it ran and had recorded; exit codes and summaries say what happened.
// And timings that outlive Redis: timings-output of one run balances a run on a fresh Redis.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RedisServer, freePort } from '../helpers/redis-server.js';
import { isAlive } from '../helpers/action.js';
import { Scenario, useRedisServer, waitFor } from './harness.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server));

/** Short windows, so that the tests need not wait 10 s to connect and 60 s to give up reconnecting. */
const WINDOWS = { SHARDLESS_TEST_CONNECT_TIMEOUT_MS: '1500', SHARDLESS_TEST_RECONNECT_WINDOW_MS: '1500' };

/** A Redis nobody listens on. */
async function deadRedis(): Promise<RedisServer> {
  return { url: `redis://127.0.0.1:${await freePort()}` } as RedisServer;
}

const sorted = (ids: string[]) => [...ids].sort();

/** Tests worker `w` started, in order; `fallback`: only in its fallback batches (or only before them). */
function startedBy(s: Scenario, w: string, fallback?: boolean): string[] {
  return s.events().runners
    .filter((r) => r.worker === w && (fallback === undefined || r.env.SHARDLESS_BATCH?.startsWith('fallback-') === fallback))
    .sort((a, b) => a.seq - b.seq)
    .flatMap((r) => r.started);
}

describe('Redis down from the start', () => {
  test('each worker runs its static share by count: every test once; failures fail their worker; the controller exits 0', { timeout: 60_000 }, async () => {
    const s = new Scenario(await deadRedis(), 'down');
    const tests = ['t/pass-a', 't/pass-b', 't/fail-c', 't/pass-d', 't/skip-e', 't/pass-f', 't/pass-g'];
    const controller = s.controller(tests, {}, WINDOWS);
    const workers = [0, 1, 2].map((i) => s.worker(`w${i}`, { tests: tests.join('\n'), workers: '3', 'worker-index': String(i) }, WINDOWS));
    await s.allExited(30_000);

    // Sorted: fail-c pass-a pass-b | pass-d pass-f | pass-g skip-e (contiguous, sizes 3, 2, 2).
    const shares = [['t/fail-c', 't/pass-a', 't/pass-b'], ['t/pass-d', 't/pass-f'], ['t/pass-g', 't/skip-e']];
    shares.forEach((share, i) => expect(sorted(startedBy(s, `w${i}`)), `w${i}`).toEqual(share));
    const all = s.events().runners.flatMap((r) => r.started);
    expect(sorted(all), 'every test ran exactly once').toEqual(sorted(tests));
    for (const r of s.events().runners) expect(r.env.SHARDLESS_BATCH).toMatch(/^fallback-\d+$/);

    expect(workers.map((w) => w.exit?.code)).toEqual([1, 0, 0]);
    expect(workers[0].output()).toMatch(/::error::1 test run here ended failed or lost \(fallback\): t\/fail-c \(failed\)/);
    expect(workers[0].summary()).toMatch(/worker w0 ran in fallback — ❌ failed/);
    expect(workers[0].summary()).toMatch(/\*\*share 1 of 3\*\* \(worker-index 0\), 3 of the 7 tests, split by count/);
    expect(workers[0].summary()).toContain('`t/fail-c` — failed: expected "t/fail-c" to pass');
    expect(workers[1].summary()).toMatch(/worker w1 ran in fallback — ✅ passed[\s\S]*share 2 of 3/);
    expect(workers[2].summary()).toMatch(/\| 2 \| 1 \| 0 \| 0 \| 1 \|/);
    expect(workers[1].outputs()).toMatchObject({ fallback: 'true', tests: '2', failed: '0', batches: '1' });
    expect(workers[0].outputs()).toMatchObject({ fallback: 'true', failed: '1' });

    expect(controller.exit).toEqual({ code: 0, signal: null });
    expect(controller.output()).toMatch(/::warning::the controller could not coordinate run .*cannot connect to Redis.*the workers run their static shares \(fallback: static\)/);
    expect(controller.summary()).toMatch(/— ⚠️ not coordinated/);
    expect(controller.summary()).toContain('There is no report of the 7 tests');
    expect(controller.outputs()).toMatchObject({ total: '7', fallback: 'true', report: '', junit: '' });
    expect(existsSync(s.reportPath)).toBe(false);
  });

  test('split by the timings of timings-file (JSON): the longest test gets a share of its own', { timeout: 60_000 }, async () => {
    const s = new Scenario(await deadRedis(), 'down-timings');
    const tests = ['t/pass-a', 't/pass-b', 't/pass-c', 't/pass-d', 't/pass-z'];
    const file = join(s.dir, 'timings.json');
    writeFileSync(file, JSON.stringify({ version: 1, startMs: 100, costs: { 't/pass-a': 100, 't/pass-b': 100, 't/pass-c': 100, 't/pass-d': 100, 't/pass-z': 10_000 } }));
    const workers = [0, 1].map((i) => s.worker(`w${i}`, { tests: tests.join('\n'), workers: '2', 'worker-index': String(i), 'timings-file': file }, WINDOWS));
    await s.allExited(30_000);
    expect(workers.map((w) => w.exit?.code)).toEqual([0, 0]);
    // By count, w0 would run a, b, c.
    expect(startedBy(s, 'w0')).toEqual(['t/pass-z']);
    expect(sorted(startedBy(s, 'w1'))).toEqual(['t/pass-a', 't/pass-b', 't/pass-c', 't/pass-d']);
    expect(workers[0].summary()).toContain('split by the timings of timings-file');
  });

  test('a worker cancelled in the fallback kills its batch and exits 1 within 5 s', { timeout: 60_000 }, async () => {
    const s = new Scenario(await deadRedis(), 'down-cancel');
    const w = s.worker('w0', { tests: 't/hang-x\nt/pass-y', workers: '1', 'worker-index': '0' }, WINDOWS);
    const runner = await s.startedBy('w0', (id) => id === 't/hang-x');
    const grandchild = await waitFor('the hanging test to spawn its grandchild', () => s.events().byPid(runner.pid)?.grandchildren[0]);
    const t0 = Date.now();
    w.proc.kill('SIGTERM');
    await waitFor('the worker to exit', () => w.exit, 10_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(w.exit).toEqual({ code: 1, signal: null });
    expect(w.output()).toContain('::error::worker w0 cancelled by SIGTERM');
    expect(w.output()).not.toMatch(/could not hand tests back|TypeError/);
    await waitFor('the batch and its grandchild to be gone', () => !isAlive(runner.pid) && !isAlive(grandchild), 5_000);
  });

  test('a worker that cannot fall back fails naming what it lacks; fallback: fail fails worker and controller', { timeout: 60_000 }, async () => {
    const s = new Scenario(await deadRedis(), 'down-cannot');
    const noIndex = s.worker('a', {}, WINDOWS);
    const noTests = s.worker('b', { 'worker-index': '0', workers: '2' }, WINDOWS);
    const failing = s.worker('c', { 'worker-index': '0', workers: '2', tests: 't/pass-a', fallback: 'fail' }, WINDOWS);
    const controller = s.controller(['t/pass-a'], { fallback: 'fail' }, WINDOWS);
    await s.allExited(30_000);
    for (const r of [noIndex, noTests, failing, controller]) expect(r.exit, r.name).toEqual({ code: 1, signal: null });
    expect(noIndex.output()).toMatch(/::error::.*cannot connect to Redis.*cannot fall back to a static share: it has no static share without 'worker-index' and 'workers'/);
    expect(noTests.output()).toMatch(/::error::.*cannot fall back.*the controller's test inputs \('tests', 'tests-file', 'tests-command' or 'runner'\)/);
    expect(failing.output()).toMatch(/::error::.*cannot fall back to a static share: 'fallback' is fail/);
    expect(controller.output()).toMatch(/::error::the controller could not coordinate run .*cannot connect to Redis.*\(fallback: fail\)/);
    expect(controller.summary()).toContain('This step fails (`fallback: fail`)');
    expect(s.events().runners, 'no test ran').toEqual([]);
  });
});

describe('Redis killed mid-run', () => {
  test('past the reconnect window the workers finish by their static shares: every test runs, none twice on a worker that saw it recorded', { timeout: 90_000 }, async () => {
    const own = await RedisServer.start();
    try {
      const s = new Scenario(own, 'dies');
      const tests = Array.from({ length: 16 }, (_, i) => `t/slow400-${String(i).padStart(2, '0')}`);
      const controller = s.controller(tests, { 'batch-size': '2' }, WINDOWS);
      const workers = [0, 1].map((i) => s.worker(`w${i}`, { tests: tests.join('\n'), workers: '2', 'worker-index': String(i) }, WINDOWS));
      // Results the workers saw recorded: the lines they log after Redis answered their report.
      const recorded = (w: number) => [...workers[w].output().matchAll(/^ {2}✓ (\S+): passed$/gm)].map((m) => m[1]);
      await waitFor('a few results recorded', () => recorded(0).length + recorded(1).length >= 3, 30_000);
      await own.stop('SIGKILL');
      const before = [0, 1].map(recorded);
      await s.allExited(60_000);

      expect(before.flat().length, 'Redis died mid-run').toBeLessThan(tests.length);
      const shares = [sorted(tests).slice(0, 8), sorted(tests).slice(8)];
      for (const w of [0, 1]) {
        const id = `w${w}`;
        expect(workers[w].exit, id).toEqual({ code: 0, signal: null });
        expect(recorded(w), `${id} recorded nothing after Redis died`).toEqual(before[w]);
        expect(workers[w].output()).toMatch(/::warning::shardless: Redis is unreachable: it stayed unreachable past the reconnect window \(.*\)\. Worker w\d runs in fallback: static share \d of 2/);
        expect(workers[w].summary()).toMatch(/ran in fallback — ✅ passed/);
        const mine = startedBy(s, id);
        // A worker never runs a test twice: not what it saw recorded, nor what it ran when Redis could no longer record it.
        expect(mine.length, `${id} ran no test twice`).toBe(new Set(mine).size);
        for (const t of before[w]) expect(startedBy(s, id, true), `${id} does not run ${t} again`).not.toContain(t);
        // Its whole share ran: before Redis died, or in the fallback.
        for (const t of shares[w]) expect(mine, `${id} ran its share's ${t}`).toContain(t);
      }
      const all = s.events().runners.flatMap((r) => r.started);
      expect(sorted([...new Set(all)]), 'every test ran').toEqual(sorted(tests));
      expect(s.events().runners.some((r) => r.env.SHARDLESS_BATCH?.startsWith('fallback-')), 'some tests ran in the fallback').toBe(true);

      expect(controller.exit).toEqual({ code: 0, signal: null });
      expect(controller.summary()).toMatch(/not coordinated[\s\S]*Redis stayed unreachable past the reconnect window during the run/);
    } finally {
      await own.close();
    }
  });
});

describe('timings that outlive Redis', () => {
  test('timings-output of a run, given as timings-file to a run on a fresh Redis, queues the longest first', { timeout: 90_000 }, async () => {
    // Listed shortest first: without timings, the queue keeps the listed order.
    const tests = ['t/slow50-a', 't/slow300-b', 't/slow700-c', 't/slow1200-d'];
    const first = new Scenario(redis, 'timings-1');
    const file = join(first.dir, 'cache', 'shardless-timings.json');
    const c1 = first.controller(tests, { 'batch-size': '1', 'timings-output': file });
    first.worker('w1');
    first.worker('w2');
    await first.allExited(60_000);
    expect(c1.exit).toEqual({ code: 0, signal: null });
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { version: number; startMs: number | null; costs: Record<string, number> };
    expect(doc.version).toBe(1);
    expect(Object.keys(doc.costs).sort()).toEqual(sorted(tests));
    const byCost = Object.keys(doc.costs).sort((a, b) => doc.costs[b] - doc.costs[a]);
    expect(byCost, JSON.stringify(doc)).toEqual([...tests].reverse());

    const fresh = await RedisServer.start();
    try {
      const second = new Scenario(fresh, 'timings-2');
      const c2 = second.controller(tests, { 'batch-size': '1', 'timings-file': file });
      second.worker('w1');
      await second.allExited(60_000);
      expect(c2.exit).toEqual({ code: 0, signal: null });
      expect(c2.output()).toContain('timings: 4 of 4 tests known');
      // One worker, batches of one: it claims in queue order, longest first by the file alone.
      expect(startedBy(second, 'w1')).toEqual([...tests].reverse());
    } finally {
      await fresh.close();
    }
  });
});
