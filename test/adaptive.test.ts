// Adaptive batches (src/lua/claim.lua with meta.batchMs > 0), against a real redis-server: the queue is
// claimed in seeded (longest-first) order; a batch takes tests until the next one would push its
// estimated cost past target = min(batchMs, max(fair * share, startMs)), fair = (qcost + work left in
// active leases) / max(1, live); at least 1 test, at most batchSize; a requeued test alone; and the
// aggregates the target is computed from (qcost, live, inflight) stay exact through claim, report,
// release, reap and register. Costs are chosen so that the few ms that pass between two calls never
// move a batch boundary; where elapsed time matters, the test waits on Redis TIME with a deadline.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Redis } from 'ioredis';
import { RedisServer, waitFor } from './helpers/redis-server.js';
import { Queue, type ClaimReply, type RunSettings } from '../src/queue.js';
import { runKeys, type RunKeys } from '../src/keys.js';
import { longestFirst } from '../src/timings.js';
import type { TestResult } from '../src/types.js';

let srv: RedisServer;
let redis: Redis;

beforeAll(async () => {
  srv = await RedisServer.start();
  redis = srv.client();
});

afterAll(async () => {
  redis?.disconnect();
  await srv?.close();
});

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const TTL = 600;
/** A huge batchMs: the target is then the fair share (or startMs), never the cap. */
const NO_CAP = 1_000_000_000;
const BASE: RunSettings = {
  batchSize: 100, maxAttempts: 3, retries: 0, batchTimeout: 0, heartbeatTtl: 30, maxFailures: 0,
  batchMs: NO_CAP, share: 0.5, startMs: 0,
};

let runCounter = 0;

interface Run {
  q: Queue;
  keys: RunKeys;
  epoch: string;
  order: string[];
  costs: Map<string, number>;
}

/**
 * A fresh run: reset with the settings, seeded in the given order with the given costs, started, and
 * with the workers registered (each register counts one more live worker).
 */
async function newRun(order: string[], costs: Map<string, number>, settings: Partial<RunSettings>, workers = ['w1']): Promise<Run> {
  runCounter += 1;
  const keys = runKeys('o/r', 'adaptive', `${process.pid}-${runCounter}`);
  const q = new Queue(redis, keys);
  const epoch = `epoch-${runCounter}`;
  await q.reset(epoch, TTL, { ...BASE, ...settings });
  await q.seed(epoch, order, costs);
  await q.start(epoch);
  for (const w of workers) expect(await q.register(w)).toMatchObject({ epoch });
  return { q, keys, epoch, order, costs };
}

/** Ids t001.. with the given costs, in the given order. */
function withCosts(cs: number[], p = 't'): { ids: string[]; costs: Map<string, number> } {
  const ids = cs.map((_, i) => `${p}${String(i + 1).padStart(3, '0')}`);
  return { ids, costs: new Map(ids.map((id, i) => [id, cs[i]])) };
}

type Ok = Extract<ClaimReply, { kind: 'ok' }>;

async function claimOk(run: Run, worker: string): Promise<Ok> {
  const c = await run.q.claim(run.epoch, worker);
  if (c.kind !== 'ok') throw new Error(`expected a batch for ${worker}, got ${JSON.stringify(c)}`);
  return c;
}

function passedAll(tests: string[]): Map<string, TestResult> {
  return new Map(tests.map((id) => [id, { outcome: 'passed', durationMs: 1, message: '' }]));
}

async function reportPassed(run: Run, worker: string, b: Ok): Promise<void> {
  const r = await run.q.report(run.epoch, worker, b.lease, 'ok', passedAll(b.tests));
  expect(r.kind).toBe('ok');
}

function sum(run: Run, ids: string[]): number {
  return ids.reduce((a, id) => a + (run.costs.get(id) ?? 0), 0);
}

interface Aggregates { qcost: number; live: number; inN: number; inCost: number; inStarts: number }

async function aggregates(run: Run): Promise<Aggregates> {
  const [qcost, live, inflight] = await redis.hmget(run.keys.meta, 'qcost', 'live', 'inflight');
  const m = /^(\d+)\|(\d+)\|(\d+)$/.exec(inflight ?? '');
  if (!m) throw new Error(`bad inflight ${inflight}`);
  return { qcost: Number(qcost), live: Number(live), inN: Number(m[1]), inCost: Number(m[2]), inStarts: Number(m[3]) };
}

/** The sum of the stored costs of the tests now in the primary queue. */
async function queuedCost(run: Run): Promise<number> {
  const queued = await redis.lrange(run.keys.queue, 0, -1);
  if (queued.length === 0) return 0;
  const cs = await redis.hmget(run.keys.costs, ...queued);
  return cs.reduce((a, c) => a + Number(c ?? 0), 0);
}

interface LeaseRec { w: string; s: number; e?: number; i: boolean; t: string[]; st: string; c?: number }

async function lease(run: Run, id: string): Promise<LeaseRec> {
  const v = await redis.hget(run.keys.leases, id);
  if (v === null) throw new Error(`lease ${id} unknown`);
  const l = JSON.parse(v);
  return { ...l, t: Array.isArray(l.t) ? l.t : [] };
}

/** What the active leases add up to, read from the leases themselves: what `inflight` must say. */
async function activeLeaseTotals(run: Run): Promise<{ n: number; cost: number; starts: number }> {
  const all = await redis.hgetall(run.keys.leases);
  let n = 0, cost = 0, starts = 0;
  for (const [id, v] of Object.entries(all)) {
    if (id === '_') continue;
    const l = JSON.parse(v) as LeaseRec;
    if (l.st !== 'active') continue;
    n += 1;
    cost += l.c ?? 0;
    starts += l.s;
  }
  return { n, cost, starts };
}

async function expectInflightExact(run: Run): Promise<Aggregates> {
  const a = await aggregates(run);
  const t = await activeLeaseTotals(run);
  expect({ n: a.inN, cost: a.inCost, starts: a.inStarts }, 'inflight agrees with the active leases').toEqual(t);
  return a;
}

async function redisNow(): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/**
 * The sizing rule of claim.lua, as specified, for a queue whose head has the given costs: the count of
 * tests the next claim takes. `running` is the work left in active leases.
 */
function modelCount(head: number[], s: { batchMs: number; share: number; startMs: number; batchSize: number },
  qcost: number, live: number, running = 0): number {
  const fair = (qcost + running) / Math.max(1, live);
  const target = Math.min(s.batchMs, Math.max(fair * s.share, s.startMs));
  const cand = head.slice(0, s.batchSize);
  let k = 0, cost = 0;
  do {
    cost += cand[k];
    k += 1;
  } while (k < cand.length && cost + cand[k] <= target);
  return k;
}

// ---------------------------------------------------------------------------------------------
// Order
// ---------------------------------------------------------------------------------------------

describe('order', () => {
  test('a queue seeded longest first is claimed in exactly that order, batch after batch', async () => {
    const raw = [3_000, 90_000, 500, 12_000, 12_000, 45_000, 7_000, 500, 60_000, 1_000, 12_000, 30_000];
    const { ids, costs } = withCosts(raw);
    const order = longestFirst(ids, costs);
    // Longest first, ties in listed order.
    expect(order.map((id) => costs.get(id))).toEqual([...raw].sort((a, b) => b - a));
    expect(order.filter((id) => costs.get(id) === 12_000)).toEqual(['t004', 't005', 't011']);

    const run = await newRun(order, costs, { batchMs: 70_000, share: 1, batchSize: 4 });
    const claimed: string[] = [];
    const sizes: number[] = [];
    for (;;) {
      const c = await run.q.claim(run.epoch, 'w1');
      if (c.kind !== 'ok') {
        expect(c.kind).toBe('done');
        break;
      }
      expect(c.isolated).toBe(false);
      claimed.push(...c.tests);
      sizes.push(c.tests.length);
      await reportPassed(run, 'w1', c);
    }
    expect(claimed).toEqual(order);
    // Several tests per batch happened at all (the order is not just a series of singles).
    expect(Math.max(...sizes)).toBeGreaterThan(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Filling a batch
// ---------------------------------------------------------------------------------------------

describe('filling a batch up to the target', () => {
  // One live worker, share 1: fair = qcost, far above batchMs, so the target is exactly batchMs.
  test('takes tests until the next one would exceed the target; a cost landing exactly on it is taken', async () => {
    const { ids, costs } = withCosts([40_000, 15_000, 10_000, 30_000, 30_000, 1, 200_000, 200_000]);
    const run = await newRun(ids, costs, { batchMs: 60_000, share: 1, batchSize: 10 });
    // 40k + 15k = 55k; + 10k = 65k > 60k: stop.
    const a = await claimOk(run, 'w1');
    expect(a.tests).toEqual(['t001', 't002']);
    await reportPassed(run, 'w1', a);
    // 10k alone: + 30k = 40k; + 30k = 70k > 60k: stop.
    const b = await claimOk(run, 'w1');
    expect(b.tests).toEqual(['t003', 't004']);
    await reportPassed(run, 'w1', b);
    // 30k + 1 = 30001 <= 60k; + 200k > 60k.
    const c = await claimOk(run, 'w1');
    expect(c.tests).toEqual(['t005', 't006']);
    await reportPassed(run, 'w1', c);
    // A test costlier than the target on its own is claimed alone (at least 1), and so is the next.
    const d = await claimOk(run, 'w1');
    expect(d.tests).toEqual(['t007']);
    expect((await lease(run, d.lease)).c).toBe(200_000);
    await reportPassed(run, 'w1', d);
    const e = await claimOk(run, 'w1');
    expect(e.tests).toEqual(['t008']);
    await reportPassed(run, 'w1', e);
    expect(await run.q.claim(run.epoch, 'w1')).toMatchObject({ kind: 'done', state: 'complete' });
  });

  test('a sum exactly equal to the target is taken (the rule is "exceeds", not "reaches")', async () => {
    const { ids, costs } = withCosts([30_000, 30_000, 1, 1]);
    const run = await newRun(ids, costs, { batchMs: 60_000, share: 1, batchSize: 10 });
    const a = await claimOk(run, 'w1');
    expect(a.tests).toEqual(['t001', 't002']);
    expect((await lease(run, a.lease)).c).toBe(60_000);
  });

  test('never more than batchSize tests, however cheap', async () => {
    const { ids, costs } = withCosts(Array.from({ length: 11 }, () => 1));
    const run = await newRun(ids, costs, { batchMs: 60_000, share: 1, batchSize: 4 });
    const sizes: number[] = [];
    for (;;) {
      const c = await run.q.claim(run.epoch, 'w1');
      if (c.kind !== 'ok') break;
      sizes.push(c.tests.length);
      await reportPassed(run, 'w1', c);
    }
    expect(sizes).toEqual([4, 4, 3]);
  });

  test('a head test costlier than the target is claimed alone even when cheap tests follow', async () => {
    const { ids, costs } = withCosts([500_000, 1, 1, 1]);
    const run = await newRun(ids, costs, { batchMs: 60_000, share: 1, batchSize: 10 });
    const a = await claimOk(run, 'w1');
    expect(a.tests).toEqual(['t001']);
    await reportPassed(run, 'w1', a);
    // The cheap rest then go together.
    expect((await claimOk(run, 'w1')).tests).toEqual(['t002', 't003', 't004']);
  });

  test('tests seeded without a cost count 0 and ride along up to batchSize', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const costs = new Map([['a', 50_000]]);
    const run = await newRun(ids, costs, { batchMs: 60_000, share: 1, batchSize: 4 });
    expect(await redis.hmget(run.keys.costs, ...ids)).toEqual(['50000', '0', '0', '0', '0']);
    expect((await claimOk(run, 'w1')).tests).toEqual(['a', 'b', 'c', 'd']);
  });
});

// ---------------------------------------------------------------------------------------------
// Shrinking (guided self-scheduling)
// ---------------------------------------------------------------------------------------------

describe('shrinking as the queue drains', () => {
  test('each batch is sized from the work left per live worker: batches carry less and less', async () => {
    // 40 tests of 1 s, 2 live workers, share 0.5: target = qcost / 4. Each batch is reported before the
    // next claim, so no work is in flight and every boundary is exact.
    const settings = { batchMs: NO_CAP, share: 0.5, startMs: 0, batchSize: 100 };
    const { ids, costs } = withCosts(Array.from({ length: 40 }, () => 1_000));
    const run = await newRun(ids, costs, settings, ['w1', 'w2']);
    expect((await aggregates(run)).live).toBe(2);

    const sizes: number[] = [];
    const expected: number[] = [];
    const work: number[] = [];
    let left = [...ids];
    while (left.length > 0) {
      const qcost = sum(run, left);
      expect((await aggregates(run)).qcost).toBe(qcost);
      expected.push(modelCount(left.map((id) => costs.get(id)!), settings, qcost, 2));
      const w = sizes.length % 2 ? 'w2' : 'w1';
      const b = await claimOk(run, w);
      sizes.push(b.tests.length);
      work.push(sum(run, b.tests));
      expect(b.tests).toEqual(left.slice(0, b.tests.length));
      left = left.slice(b.tests.length);
      await reportPassed(run, w, b);
    }
    expect(sizes).toEqual(expected);
    expect(sizes).toEqual([10, 7, 5, 4, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1]);
    for (let i = 1; i < work.length; i++) expect(work[i], `batch ${i + 1} carries no more than batch ${i}`).toBeLessThanOrEqual(work[i - 1]);
  });

  test('more live workers mean smaller batches; register counts at once, reap writes the exact count', async () => {
    const settings = { batchMs: NO_CAP, share: 0.5, startMs: 0, batchSize: 100 };
    const { ids, costs } = withCosts(Array.from({ length: 80 }, () => 1_000));
    const run = await newRun(ids, costs, settings, ['w1', 'w2', 'w3', 'w4']);
    expect((await aggregates(run)).live).toBe(4);
    // Registering again while alive is not one more worker.
    await run.q.register('w2');
    expect((await aggregates(run)).live).toBe(4);

    // 80 s over 4 workers, half a share: 10 s.
    const a = await claimOk(run, 'w1');
    expect(a.tests.length).toBe(10);
    await reportPassed(run, 'w1', a);

    // The reap agrees: 4 alive with heartbeats.
    expect(await run.q.reap(run.epoch, 30_000)).toMatchObject({ live: 4, reaped: [] });
    const b = await claimOk(run, 'w1');
    expect(b.tests.length).toBe(modelCount(Array(70).fill(1_000), settings, 70_000, 4)); // 70 s / 4 / 2 = 8.75 s
    expect(b.tests.length).toBe(8);
    await reportPassed(run, 'w1', b);

    // w3 and w4 stop heartbeating: the reap presumes them dead and writes live = 2.
    await redis.del(run.keys.hbPrefix + 'w3', run.keys.hbPrefix + 'w4');
    const p = await run.q.reap(run.epoch, 30_000);
    expect(p).toMatchObject({ live: 2 });
    expect([...p!.reaped].sort()).toEqual(['w3', 'w4']);
    expect((await aggregates(run)).live).toBe(2);

    // 62 s over 2 workers, half a share: 15.5 s, nearly twice the batch of 4 workers.
    const c = await claimOk(run, 'w2');
    expect(c.tests.length).toBe(15);
    await reportPassed(run, 'w2', c);

    // A dead worker that registers again counts again at once.
    await run.q.register('w3');
    expect((await aggregates(run)).live).toBe(3);
    const d = await claimOk(run, 'w3');
    expect(d.tests.length).toBe(modelCount(Array(47).fill(1_000), settings, 47_000, 3)); // 47/3/2 = 7.83 s
    expect(d.tests.length).toBe(7);
  });

  test('the target never falls below startMs', async () => {
    // 1 live worker, share 0.5, 1 s tests: without a floor the tail would go 1 test at a time.
    const settings = { batchMs: NO_CAP, share: 0.5, startMs: 5_000, batchSize: 100 };
    const { ids, costs } = withCosts(Array.from({ length: 12 }, () => 1_000));
    const floor = await newRun(ids, costs, settings);
    const sizes: number[] = [];
    for (;;) {
      const c = await floor.q.claim(floor.epoch, 'w1');
      if (c.kind !== 'ok') break;
      sizes.push(c.tests.length);
      await reportPassed(floor, 'w1', c);
    }
    // 12 s: 6 s; then 6 s left: 3 s < 5 s floor: 5; then 1 left.
    expect(sizes).toEqual([6, 5, 1]);
    for (const n of sizes.slice(0, -1)) expect(n * 1_000).toBeGreaterThanOrEqual(settings.startMs);

    const none = await newRun(ids, costs, { ...settings, startMs: 0 });
    const sizes0: number[] = [];
    for (;;) {
      const c = await none.q.claim(none.epoch, 'w1');
      if (c.kind !== 'ok') break;
      sizes0.push(c.tests.length);
      await reportPassed(none, 'w1', c);
    }
    expect(sizes0).toEqual([6, 3, 1, 1, 1]);
  });

  test('batchMs caps the target however much work is left', async () => {
    const { ids, costs } = withCosts(Array.from({ length: 30 }, () => 1_000));
    const run = await newRun(ids, costs, { batchMs: 4_000, share: 1, startMs: 0, batchSize: 100 });
    expect((await claimOk(run, 'w1')).tests.length).toBe(4);
  });
});

// ---------------------------------------------------------------------------------------------
// Work in flight
// ---------------------------------------------------------------------------------------------

describe('work left in active leases', () => {
  test("w2's batch is sized from the queue plus what w1 still holds", async () => {
    // 20 tests of 10 s, 2 live workers, share 0.45.
    // w1: fair = 200/2 = 100 s, target 45 s: 4 tests (40 s).
    // w2 right after: fair = (160 + ~40) / 2 = ~100 s, target ~45 s: 4 tests. Counting only the queue
    // (160 / 2 * 0.45 = 36 s) would give 3. The boundary is > 20 s of elapsed time away.
    const settings = { batchMs: NO_CAP, share: 0.45, startMs: 0, batchSize: 100 };
    const { ids, costs } = withCosts(Array.from({ length: 20 }, () => 10_000));
    const run = await newRun(ids, costs, settings, ['w1', 'w2']);
    const a = await claimOk(run, 'w1');
    expect(a.tests.length).toBe(4);
    expect(await expectInflightExact(run)).toMatchObject({ inN: 1, inCost: 40_000, qcost: 160_000 });
    const b = await claimOk(run, 'w2');
    expect(modelCount(Array(16).fill(10_000), settings, 160_000, 2, 0)).toBe(3);
    expect(b.tests.length).toBe(4);
    expect(await expectInflightExact(run)).toMatchObject({ inN: 2, inCost: 80_000, qcost: 120_000 });
  });

  test('a lease past its estimate adds nothing (its remainder is clamped at 0)', async () => {
    // 20 tests of 100 ms, 2 live workers, share 0.2. w1: fair = 2000/2, target 200 ms: 2 tests.
    // Once w1's lease has run 200 ms (Redis TIME), nothing of it is left: w2's target is
    // 1800/2 * 0.2 = 180 ms: 1 test (counting the lease as not started would give 200 ms: 2 tests).
    const settings = { batchMs: NO_CAP, share: 0.2, startMs: 0, batchSize: 100 };
    const { ids, costs } = withCosts(Array.from({ length: 20 }, () => 100));
    const run = await newRun(ids, costs, settings, ['w1', 'w2']);
    const a = await claimOk(run, 'w1');
    expect(a.tests.length).toBe(2);
    const l = await lease(run, a.lease);
    expect(l.c).toBe(200);
    await waitFor('w1 lease to outrun its estimate', async () => (await redisNow()) >= l.s + 250, 10_000, 20);
    const b = await claimOk(run, 'w2');
    expect(b.tests.length).toBe(1);
  });

  test('work left in flight also keeps the last worker from taking the whole tail', async () => {
    // 3 live workers, a big batch in flight, and a short queue. Without in-flight work the queue's 6 s over 3 workers at share 1 would be 2 s: 2 tests.
    // With w1's 60 s in flight: (6 + 60) / 3 = 22 s: the whole rest (6 tests).
    const settings = { batchMs: NO_CAP, share: 1, startMs: 0, batchSize: 100 };
    const { ids, costs } = withCosts([60_000, ...Array(6).fill(1_000)]);
    const run = await newRun(ids, costs, { ...settings, batchMs: 60_000 }, ['w1', 'w2', 'w3']);
    const a = await claimOk(run, 'w1');
    expect(a.tests).toEqual(['t001']);
    const b = await claimOk(run, 'w2');
    expect(b.tests.length).toBe(6);
    expect(modelCount(Array(6).fill(1_000), settings, 6_000, 3, 0)).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------
// Aggregates: inflight and qcost
// ---------------------------------------------------------------------------------------------

describe('inflight aggregates', () => {
  test('follow every lease that starts and ends, back to 0|0|0 after report, release and reap', async () => {
    const { ids, costs } = withCosts([30_000, 20_000, 10_000, 5_000, 5_000, 1_000]);
    // share 2: fair * share stays above batchMs (71 s / 4 * 2), so the target is batchMs, 30 s.
    const run = await newRun(ids, costs, { batchMs: 30_000, share: 2, batchSize: 10 }, ['w1', 'w2', 'w3', 'w4']);
    expect(await expectInflightExact(run)).toMatchObject({ inN: 0, inCost: 0, inStarts: 0 });

    const a = await claimOk(run, 'w1'); // 30 s
    const b = await claimOk(run, 'w2'); // 20 s + 10 s
    const c = await claimOk(run, 'w3'); // 5 + 5 + 1 s
    expect([a.tests, b.tests, c.tests]).toEqual([['t001'], ['t002', 't003'], ['t004', 't005', 't006']]);
    const all = await expectInflightExact(run);
    expect(all).toMatchObject({ inN: 3, inCost: 71_000, qcost: 0 });
    // The summed start times are Redis TIME values, 3 of them, near now.
    const now = await redisNow();
    expect(all.inStarts).toBeGreaterThan(3 * (now - 60_000));
    expect(all.inStarts).toBeLessThanOrEqual(3 * now);

    // report: w1's lease ends.
    await reportPassed(run, 'w1', a);
    expect(await expectInflightExact(run)).toMatchObject({ inN: 2, inCost: 41_000 });
    // release on a signal: w2's lease ends, its tests go to the requeue.
    expect(await run.q.release(run.epoch, 'w2', b.lease, 'cancelled')).toBe(2);
    expect(await expectInflightExact(run)).toMatchObject({ inN: 1, inCost: 11_000 });
    // reap: w3 stops heartbeating, its lease is reclaimed.
    await redis.del(run.keys.hbPrefix + 'w3');
    expect((await run.q.reap(run.epoch, 30_000))!.reaped).toEqual(['w3']);
    expect(await aggregates(run)).toMatchObject({ inN: 0, inCost: 0, inStarts: 0 });
    expect(await redis.hget(run.keys.meta, 'inflight')).toBe('0|0|0');

    // A requeued test under its own lease counts its own cost, and leaves no trace once reported.
    const r = await claimOk(run, 'w4');
    expect(r).toMatchObject({ isolated: true, tests: ['t002'] });
    expect(await expectInflightExact(run)).toMatchObject({ inN: 1, inCost: 20_000 });
    await reportPassed(run, 'w4', r);
    expect(await redis.hget(run.keys.meta, 'inflight')).toBe('0|0|0');

    // A worker restarted under the same id (register while holding a lease) ends that lease too.
    const s = await claimOk(run, 'w4');
    expect(s.isolated).toBe(true);
    expect(await expectInflightExact(run)).toMatchObject({ inN: 1 });
    await run.q.register('w4');
    expect(await redis.hget(run.keys.meta, 'inflight')).toBe('0|0|0');

    // A report from a fenced (reclaimed) lease changes nothing.
    await run.q.report(run.epoch, 'w3', c.lease, 'ok', passedAll(c.tests));
    expect(await redis.hget(run.keys.meta, 'inflight')).toBe('0|0|0');
  });

  test('a claim sent again returns the held batch without counting it twice', async () => {
    const { ids, costs } = withCosts([10_000, 10_000, 10_000]);
    const run = await newRun(ids, costs, { batchMs: 20_000, share: 1 });
    const a = await claimOk(run, 'w1');
    const before = await expectInflightExact(run);
    const again = await claimOk(run, 'w1');
    expect(again).toEqual(a);
    expect(await aggregates(run)).toEqual(before);
  });
});

describe('the requeue under adaptive batches', () => {
  test('is claimed one test at a time, however much room the target leaves', async () => {
    const { ids, costs } = withCosts(Array.from({ length: 8 }, () => 10));
    // startMs 60 s: the target is 60 s (the floor), room for every test.
    const run = await newRun(ids, costs, { batchMs: 60_000, share: 1, startMs: 60_000, batchSize: 10 }, ['w1', 'w2']);
    const a = await claimOk(run, 'w1');
    expect(a.tests).toEqual(ids);
    // The batch failed without per-test results: every test goes to the requeue (split).
    await run.q.report(run.epoch, 'w1', a.lease, 'split', new Map());
    expect(await redis.lrange(run.keys.requeue, 0, -1)).toEqual(ids);
    const seen: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const w = i % 2 ? 'w2' : 'w1';
      const c = await claimOk(run, w);
      expect(c).toMatchObject({ isolated: true, tests: [ids[i]] });
      expect((await lease(run, c.lease)).c).toBe(10);
      // The requeue is not the primary queue: its claims leave qcost alone.
      expect((await aggregates(run)).qcost).toBe(0);
      seen.push(...c.tests);
      await reportPassed(run, w, c);
    }
    expect(seen).toEqual(ids);
    expect(await run.q.claim(run.epoch, 'w1')).toMatchObject({ kind: 'done', state: 'complete' });
  });

  test('comes before the primary queue, alone, then adaptive batches resume', async () => {
    const { ids, costs } = withCosts([1_000, 1_000, 1_000, 1_000, 1_000, 1_000]);
    const run = await newRun(ids, costs, { batchMs: 2_000, share: 1, batchSize: 10 }, ['w1', 'w2']);
    const a = await claimOk(run, 'w1');
    expect(a.tests).toEqual(['t001', 't002']);
    expect(await run.q.release(run.epoch, 'w1', a.lease, 'cancelled')).toBe(2);
    const r1 = await claimOk(run, 'w2');
    expect(r1).toMatchObject({ isolated: true, tests: ['t001'] });
    await reportPassed(run, 'w2', r1);
    const r2 = await claimOk(run, 'w2');
    expect(r2).toMatchObject({ isolated: true, tests: ['t002'] });
    await reportPassed(run, 'w2', r2);
    const next = await claimOk(run, 'w2');
    expect(next).toMatchObject({ isolated: false, tests: ['t003', 't004'] });
  });
});

// ---------------------------------------------------------------------------------------------
// Count mode
// ---------------------------------------------------------------------------------------------

describe('count mode (batchMs 0)', () => {
  test('batches are exactly batchSize tests whatever their costs, the last one the remainder', async () => {
    const { ids, costs } = withCosts([900_000, 1, 500_000, 1, 1, 700_000, 2, 3, 300_000, 4, 5]);
    const run = await newRun(ids, costs, { batchMs: 0, share: 0.5, startMs: 60_000, batchSize: 3 }, ['w1', 'w2', 'w3']);
    const batches: string[][] = [];
    for (;;) {
      const c = await run.q.claim(run.epoch, 'w1');
      if (c.kind !== 'ok') break;
      expect(c.isolated).toBe(false);
      batches.push(c.tests);
      await reportPassed(run, 'w1', c);
    }
    expect(batches).toEqual([ids.slice(0, 3), ids.slice(3, 6), ids.slice(6, 9), ids.slice(9)]);
  });
});

// ---------------------------------------------------------------------------------------------
// qcost
// ---------------------------------------------------------------------------------------------

describe('qcost', () => {
  test('equals the sum of the queued costs after seeding (several chunks) and after every claim', async () => {
    // 2500 tests: seed sends 3 chunks; costs rounded to whole ms.
    const raw = Array.from({ length: 2_500 }, (_, i) => ((i * 7919) % 5_000) + 0.4);
    const { ids, costs } = withCosts(raw);
    const order = longestFirst(ids, costs);
    const run = await newRun(order, costs, { batchMs: 200_000, share: 0.5, batchSize: 50 }, ['w1', 'w2', 'w3']);
    const rounded = raw.reduce((a, c) => a + Math.round(c), 0);
    expect((await aggregates(run)).qcost).toBe(rounded);
    expect(await queuedCost(run)).toBe(rounded);
    expect(await redis.hget(run.keys.costs, order[0])).toBe(String(Math.round(costs.get(order[0])!)));

    let claims = 0;
    const held: Record<string, Ok | undefined> = {};
    for (let i = 0; claims < 40; i++) {
      const w = `w${(i % 3) + 1}`;
      const prev = held[w];
      if (prev) await reportPassed(run, w, prev);
      const c = await run.q.claim(run.epoch, w);
      if (c.kind !== 'ok') break;
      held[w] = c;
      claims += 1;
      const a = await aggregates(run);
      expect(a.qcost, `qcost after claim ${claims}`).toBe(await queuedCost(run));
      expect(c.tests.length).toBeGreaterThanOrEqual(1);
      expect(c.tests.length).toBeLessThanOrEqual(50);
    }
    expect(claims).toBe(40);
  });

  test('drains to 0 with the queue', async () => {
    const { ids, costs } = withCosts([5_000, 4_000, 3_000, 2_000, 1_000]);
    const run = await newRun(ids, costs, { batchMs: 6_000, share: 1 });
    for (;;) {
      const c = await run.q.claim(run.epoch, 'w1');
      if (c.kind !== 'ok') break;
      expect((await aggregates(run)).qcost).toBe(await queuedCost(run));
      await reportPassed(run, 'w1', c);
    }
    expect(await aggregates(run)).toMatchObject({ qcost: 0, inN: 0, inCost: 0, inStarts: 0 });
  });
});
