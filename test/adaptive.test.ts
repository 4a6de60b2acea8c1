// Adaptive batches (src/queue/lua/claim.lua and cost.lua with meta.batchMs > 0), against a real redis-server.
// With W = max(1, live, workers), inN active leases and idle = W - inN - 1 other workers holding nothing:
//   fair   = (queued work + work left in active leases) / W   (each worker pays one more start cost)
//   target = min(batchMs, fair * share), or fair when the rest (fair - target) is worth less than
//            cutStarts start costs; never below minStarts start costs
//   most   = fair; max(fair, work in flight / inN) when every other worker is busy; at most
//            queued / (idle + 1) while others hold nothing
// A claim looks at the first batchSize queued tests (longest first) and takes each one that still fits
// under min(target, most) (first fit; the head always), putting the skipped ones back at the head in
// order; when what would stay queued is worth less than cutStarts start costs, it takes those too, up to
// min(batchMs + slackMs, most). A requeued test goes alone. The aggregates the target is computed from
// (qcost, qunk, live, inflight; a lease's cost includes the start cost) stay exact through claim,
// report, release, reap and register. Costs are chosen so that the few ms that pass between two calls
// never move a batch boundary; where elapsed time matters, the test waits on Redis TIME with a deadline.
import { describe, expect, test } from 'vitest';
import type { Redis } from 'ioredis';
import { useRedisServer, waitFor } from './helpers/redis-server.js';
import { runSettings } from './helpers/run-settings.js';
import { Queue, type ClaimReply, type RunSettings } from '../src/queue/queue.js';
import { runKeys, type RunKeys } from '../src/queue/keys.js';
import { longestFirst } from '../src/sizing/costmodel.js';
import type { TestResult } from '../src/types.js';

let redis: Redis;
useRedisServer((server) => (redis = server.client()));

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const TTL = 600;
/** A huge batchMs: the target is then the fair share (or startMs), never the cap. */
const NO_CAP = 1_000_000_000;
const BASE = runSettings({ batchSize: 100, batchMs: NO_CAP });

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
  const r = await run.q.report(run.epoch, worker, b.lease, 'finished', passedAll(b.tests));
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

interface LeaseRec { w: string; s: number; e?: number; i: boolean; r?: boolean; t: string[]; st: string; c?: number }

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

type Sizing = { batchMs: number; share: number; startMs: number; batchSize: number; workers?: number; cutStarts?: number; minStarts?: number; slackMs?: number };

/**
 * The sizing rule of claim.lua, as specified, for a queue whose head has the given costs: the indexes
 * (into head) of the tests the next claim takes. `running` is the work left in active leases, `inN`
 * their count.
 */
function modelPick(head: number[], s: Sizing, qcost: number, live: number, running = 0, inN = 0): number[] {
  const w = Math.max(1, live, s.workers ?? 0);
  const idle = Math.max(0, w - inN - 1);
  const fair = (qcost + running) / w;
  let target = Math.min(s.batchMs, fair * s.share);
  const cut = (s.cutStarts ?? 0) * s.startMs;
  let cap = s.batchMs + (s.slackMs ?? 0);
  if (target < fair && fair - target < cut && fair <= cap) target = fair;
  target = Math.max(target, (s.minStarts ?? 1) * s.startMs);
  let most = idle === 0 && inN > 0 ? Math.max(fair, running / inN) : fair;
  if (idle > 0) most = Math.min(most, qcost / (idle + 1));
  target = Math.min(target, most);
  cap = Math.min(cap, most);
  const cand = head.slice(0, s.batchSize);
  const take: number[] = [];
  let cost = 0;
  cand.forEach((c, i) => {
    if (take.length === 0 || cost + c <= target) {
      take.push(i);
      cost += c;
    }
  });
  if (take.length < cand.length && qcost - cost < cut && cand.reduce((a, c) => a + c, 0) <= cap) return cand.map((_, i) => i);
  // While others hold nothing, several tests never empty the queue.
  if (idle > 0 && take.length > 1 && take.length === head.length) take.pop();
  return take;
}

/** How many tests the next claim takes (see modelPick). */
function modelCount(head: number[], s: Sizing, qcost: number, live: number, running = 0, inN = 0): number {
  return modelPick(head, s, qcost, live, running, inN).length;
}

// ---------------------------------------------------------------------------------------------
// Order
// ---------------------------------------------------------------------------------------------

describe('order', () => {
  test('every batch starts with the longest test waiting; a test that does not fit keeps its place', async () => {
    const raw = [3_000, 90_000, 500, 12_000, 12_000, 45_000, 7_000, 500, 60_000, 1_000, 12_000, 30_000];
    const { ids, costs } = withCosts(raw);
    const order = longestFirst(ids, costs);
    // Longest first, ties in listed order.
    expect(order.map((id) => costs.get(id))).toEqual([...raw].sort((a, b) => b - a));
    expect(order.filter((id) => costs.get(id) === 12_000)).toEqual(['t004', 't005', 't011']);

    const settings = { batchMs: 70_000, share: 1, startMs: 0, batchSize: 4 };
    const run = await newRun(order, costs, settings);
    const batches: string[][] = [];
    let left = [...order];
    for (;;) {
      const c = await run.q.claim(run.epoch, 'w1');
      if (c.kind !== 'ok') {
        expect(c.kind).toBe('done');
        break;
      }
      expect(c.isolated).toBe(false);
      expect(c.tests[0], 'the head of the queue leads every batch').toBe(left[0]);
      const pick = modelPick(left.map((id) => costs.get(id)!), settings, sum(run, left), 1);
      expect(c.tests).toEqual(pick.map((i) => left[i]));
      left = left.filter((id) => !c.tests.includes(id));
      // What was looked at and skipped is back at the head, in its order.
      expect(await redis.lrange(run.keys.queue, 0, -1)).toEqual(left);
      batches.push(c.tests);
      await reportPassed(run, 'w1', c);
    }
    expect(batches.flat().sort()).toEqual([...order].sort());
    // 90 | 60 | 45 + 12 + 12 (30 skipped: 75 > 70) | 30 + 12 + 7 + 3 + ... : a skip happened, and
    // several tests per batch (not just a series of singles).
    expect(batches.map((b) => b.map((id) => costs.get(id)))).toEqual([[90_000], [60_000], [45_000, 12_000, 12_000], [30_000, 12_000, 7_000, 3_000], [1_000, 500, 500]]);
  });
});

// ---------------------------------------------------------------------------------------------
// Filling a batch
// ---------------------------------------------------------------------------------------------

describe('filling a batch up to the target', () => {
  // One live worker, share 1: fair = qcost, far above batchMs, so the target is exactly batchMs.
  test('takes each test that still fits under the target (first fit), skipping those that do not', async () => {
    const { ids, costs } = withCosts([40_000, 15_000, 10_000, 30_000, 30_000, 1, 200_000, 200_000]);
    const run = await newRun(ids, costs, { batchMs: 60_000, share: 1, batchSize: 10 });
    // 40k + 15k = 55k; 10k (65k), 30k, 30k do not fit; 1 does (55001); 200k twice do not.
    const a = await claimOk(run, 'w1');
    expect(a.tests).toEqual(['t001', 't002', 't006']);
    expect(await redis.lrange(run.keys.queue, 0, -1)).toEqual(['t003', 't004', 't005', 't007', 't008']);
    // The claim looked at the whole queue, so LTRIM emptied (deleted) the list before the skipped
    // tests went back: the list made again has the run's TTL (invariant 6).
    expect(await redis.pttl(run.keys.queue)).toBeGreaterThan((TTL - 5) * 1000);
    await reportPassed(run, 'w1', a);
    // 10k + 30k = 40k; + 30k = 70k > 60k.
    const b = await claimOk(run, 'w1');
    expect(b.tests).toEqual(['t003', 't004']);
    await reportPassed(run, 'w1', b);
    // 30k; nothing after it fits.
    const c = await claimOk(run, 'w1');
    expect(c.tests).toEqual(['t005']);
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

  test('tests seeded without a cost cost the run\'s guess (0 here) and ride along up to batchSize', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const costs = new Map([['a', 50_000]]);
    const run = await newRun(ids, costs, { batchMs: 60_000, share: 1, batchSize: 4 });
    expect(await redis.hmget(run.keys.costs, ...ids)).toEqual(['50000', null, null, null, null]);
    expect(await redis.hmget(run.keys.meta, 'qcost', 'qunk')).toEqual(['50000', '4']);
    expect((await claimOk(run, 'w1')).tests).toEqual(['a', 'b', 'c', 'd']);
    expect(await redis.hmget(run.keys.meta, 'qcost', 'qunk')).toEqual(['0', '1']);
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

  test('with a start cost, the tail is not cut finer than it is worth: the whole fair share, then', async () => {
    // 1 live worker, share 0.5, 1 s tests, start cost 1 s: fair = qcost (one worker, no lease held).
    // 40 s: 20 s; 20 s: 10 s; 10 s: half would leave 5 s < 8 start costs, so all 10 s.
    const settings = { batchMs: NO_CAP, share: 0.5, startMs: 1_000, batchSize: 100, cutStarts: 8 };
    const { ids, costs } = withCosts(Array.from({ length: 40 }, () => 1_000));
    const drain = async (run: Run, startMs: number) => {
      const sizes: number[] = [];
      for (;;) {
        const c = await run.q.claim(run.epoch, 'w1');
        if (c.kind !== 'ok') break;
        sizes.push(c.tests.length);
        // The lease's estimated cost includes the start cost the batch pays.
        expect((await lease(run, c.lease)).c).toBe(c.tests.length * 1_000 + startMs);
        await reportPassed(run, 'w1', c);
      }
      return sizes;
    };
    const withStart = await newRun(ids, costs, settings);
    expect(await drain(withStart, 1_000)).toEqual([20, 10, 10]);
    // Without a start cost, guided self-scheduling goes down to single tests.
    const none = await newRun(ids, costs, { ...settings, startMs: 0 });
    expect(await drain(none, 0)).toEqual([20, 10, 5, 2, 1, 1, 1]);
    // And so it does with cutStarts 0 (costs mostly guessed): the start cost is only a floor then.
    const guessed = await newRun(ids, costs, { ...settings, cutStarts: 0 });
    expect(await drain(guessed, 1_000)).toEqual([20, 10, 5, 2, 1, 1, 1]);
    // minStarts 4 (what guessed costs get): 5 s left, half of it is under 4 s, so 4 s; then the last.
    const floored = await newRun(ids, costs, { ...settings, cutStarts: 0, minStarts: 4 });
    expect(await drain(floored, 1_000)).toEqual([20, 10, 5, 4, 1]);
  });

  test('the target never falls below startMs, even under a smaller batchMs', async () => {
    const { ids, costs } = withCosts(Array.from({ length: 100 }, () => 1_000));
    const run = await newRun(ids, costs, { batchMs: 2_000, share: 0.5, startMs: 5_000, batchSize: 100 });
    expect((await claimOk(run, 'w1')).tests.length).toBe(5);
  });

  test('the expected worker count sizes the first claims before the other workers register', async () => {
    // 80 s of 1 s tests, share 0.5, one worker registered so far.
    const { ids, costs } = withCosts(Array.from({ length: 80 }, () => 1_000));
    const alone = await newRun(ids, costs, { share: 0.5 });
    expect((await claimOk(alone, 'w1')).tests.length).toBe(40);
    // workers 4: 80 s / 4 / 2.
    const four = await newRun(ids, costs, { share: 0.5, workers: 4 });
    expect((await claimOk(four, 'w1')).tests.length).toBe(10);
    // More live workers than expected: the live count wins.
    const more = await newRun(ids, costs, { share: 0.5, workers: 2 }, ['w1', 'w2', 'w3', 'w4']);
    expect((await claimOk(more, 'w1')).tests.length).toBe(10);
  });

  test('each idle worker is charged one start cost, and a share close to fair becomes all of it', async () => {
    // 4 workers expected, 40 s of 1 s tests, share 0.9, start cost 1.5 s: the batch that ends when all
    // four end holds (40 + 4 x 1.5) / 4 - 1.5 = 10 s; 90 % of it would leave 1 s < 8 start costs.
    const { ids, costs } = withCosts(Array.from({ length: 40 }, () => 1_000));
    const s = { batchMs: NO_CAP, share: 0.9, startMs: 1_500, batchSize: 100, workers: 4, cutStarts: 8 };
    const run = await newRun(ids, costs, s);
    expect(modelCount(Array(40).fill(1_000), s, 40_000, 1)).toBe(10);
    expect((await claimOk(run, 'w1')).tests.length).toBe(10);
    // Without the start cost: 90 % of 10 s.
    const none = await newRun(ids, costs, { ...s, startMs: 0 });
    expect((await claimOk(none, 'w1')).tests.length).toBe(9);
  });

  test('a batchMs the user set stays a hard cap for both rules; slackMs (auto) lets them past it', async () => {
    // One worker, 3.6 s of 0.3 s tests, start cost 0.4 s, cut 8 start costs = 3.2 s, batchMs 1 s.
    const { ids, costs } = withCosts(Array.from({ length: 12 }, () => 300));
    const s = { batchMs: 1_000, share: 0.9, startMs: 400, batchSize: 100, cutStarts: 8 };
    const drain = async (run: Run) => {
      const sizes: number[] = [];
      for (let c = await run.q.claim(run.epoch, 'w1'); c.kind === 'ok'; c = await run.q.claim(run.epoch, 'w1')) {
        sizes.push(c.tests.length);
        await reportPassed(run, 'w1', c);
      }
      return sizes;
    };
    expect(await drain(await newRun(ids, costs, s))).toEqual([3, 3, 3, 3]);
    // With 3.2 s of slack, the whole 3.6 s goes at once (3.6 <= 1 + 3.2).
    expect(await drain(await newRun(ids, costs, { ...s, slackMs: 3_200 }))).toEqual([12]);
  });

  test('leaves no crumbs while the other workers are busy: what would stay queued must be worth cutStarts (8) start costs, else it goes too', async () => {
    // 2 live workers, start cost 1 s, share 0.5. w2 takes the 30 s test (the head; half its share is 13 s).
    // w1: 13 s queued, w2's 31 s in flight: fair = (13 + 31 + 1) / 2 - 1 = 21.5 s, target 10.75 s:
    // 10 s, and 2 s and 1 s do not fit; but 3 s left queued would be a crumb (< 8 s), and w2 is busy
    // for longer than the whole 13 s, so they go too.
    const { ids, costs } = withCosts([30_000, 10_000, 2_000, 1_000]);
    const run = await newRun(ids, costs, { share: 0.5, startMs: 1_000, cutStarts: 8 }, ['w1', 'w2']);
    expect((await claimOk(run, 'w2')).tests).toEqual(['t001']);
    const a = await claimOk(run, 'w1');
    expect(a.tests).toEqual(['t002', 't003', 't004']);
    expect((await lease(run, a.lease)).c).toBe(14_000);
    expect(await redis.llen(run.keys.queue)).toBe(0);
    expect(await aggregates(run)).toMatchObject({ qcost: 0 });
  });

  test('takes no crumbs, nor a whole share, that would leave an idle worker nothing', async () => {
    // 2 workers expected, start cost 1 s, share 0.5. 23 s queued: fair = (23 + 2) / 2 - 1 = 11.5 s, all
    // of it (the half left would be < 8 s): 10 s, then 1 s fits (2 s would not); 12 s stay queued.
    const { ids, costs } = withCosts([10_000, 10_000, 2_000, 1_000]);
    const run = await newRun(ids, costs, { share: 0.5, startMs: 1_000, workers: 2, cutStarts: 8 });
    const a = await claimOk(run, 'w1');
    expect(a.tests).toEqual(['t001', 't004']);
    expect((await lease(run, a.lease)).c).toBe(12_000);
    await reportPassed(run, 'w1', a);
    // 12 s: fair 6 s; 10 s at the head goes (at least 1 test). The 2 s left behind is worth less than
    // 8 start costs, but the other expected worker holds nothing: it stays queued for that worker.
    const b = await claimOk(run, 'w1');
    expect(b.tests).toEqual(['t002']);
    expect(await redis.lrange(run.keys.queue, 0, -1)).toEqual(['t003']);
    expect(await aggregates(run)).toMatchObject({ qcost: 2_000 });
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

  test('work left in flight lets a worker take more than the queue\'s share, but never what an idle worker needs', async () => {
    // 3 live workers, a big batch in flight, and a short queue. Without in-flight work the queue's 6 s
    // over 3 workers at share 1 would be 2 s: 2 tests. With w1's 60 s in flight, (6 + 60) / 3 = 22 s
    // would take the whole rest, but w3 holds nothing: w2 takes half (an equal part with w3), w3 the rest.
    const settings = { batchMs: NO_CAP, share: 1, startMs: 0, batchSize: 100 };
    const { ids, costs } = withCosts([60_000, ...Array(6).fill(1_000)]);
    const run = await newRun(ids, costs, { ...settings, batchMs: 60_000 }, ['w1', 'w2', 'w3']);
    const a = await claimOk(run, 'w1');
    expect(a.tests).toEqual(['t001']);
    const b = await claimOk(run, 'w2');
    expect(b.tests.length).toBe(3);
    expect(modelCount(Array(6).fill(1_000), settings, 6_000, 3, 0)).toBe(2);
    // Every other worker is busy now: w3 may take the rest.
    expect((await claimOk(run, 'w3')).tests.length).toBe(3);
  });
});

// ---------------------------------------------------------------------------------------------
// Aggregates: inflight and qcost
// ---------------------------------------------------------------------------------------------

describe('the run learns what its tests cost while it runs (cost.lua)', () => {
  const withC = (tests: string[], cs: number[]): Map<string, TestResult> =>
    new Map(tests.map((id, i) => [id, { outcome: 'passed', durationMs: 1, message: '', timed: true, costMs: cs[i] }]));

  test('a batch whose tests carry the runner\'s cost c moves the guess for unknown tests, and the next claim plans with it', async () => {
    // 12 tests nobody measured, guessed 1 s each; one worker, batches capped at 5.2 s of estimated work.
    const ids = withCosts(Array(12).fill(0)).ids;
    const run = await newRun(ids, new Map(), { batchMs: 5_200, share: 1, guessMs: 1_000 });
    expect(await redis.hmget(run.keys.meta, 'qcost', 'qunk')).toEqual(['0', '12']);
    const a = await claimOk(run, 'w1');
    expect(a.tests.length).toBe(5);
    expect((await lease(run, a.lease)).c).toBe(5_000);
    expect(await redis.hmget(run.keys.meta, 'qcost', 'qunk')).toEqual(['0', '7']);
    await run.q.report(run.epoch, 'w1', a.lease, 'finished', withC(a.tests, [5_000, 3_000, 1_000, 3_000, 1_000]));
    // The guess: (1 s seeded, weighing one test, + 13 s measured over 5 tests) / 6 (the wall, a few ms
    // here, is less than the sum of c). The start-cost fit gets a batch of 5 tests with nothing beyond
    // its c (clamped at 0): n, sum of sizes, of residuals, of sizes squared, of size x residual.
    expect((await redis.hget(run.keys.meta, 'gobs'))?.split('|').map(Number)).toEqual([5, 13_000]);
    expect(await redis.hget(run.keys.meta, 'cobs')).toBe('1|5|0|25|0');
    const guess = 14_000 / 6;
    const b = await claimOk(run, 'w1');
    expect(b.tests.length).toBe(2); // 2 x 2.33 s fit under 5.2 s, 3 would not
    expect((await lease(run, b.lease)).c).toBe(Math.floor(2 * guess));
    // The work left the controller shows: 5 unknown tests at the guess plus what the lease still has.
    const left = (await run.q.reap(run.epoch, 30_000))!.workLeftMs;
    expect(left).toBeGreaterThanOrEqual(Math.floor(5 * guess));
    expect(left).toBeLessThanOrEqual(Math.floor(7 * guess) + 1);
  });

  test('a warm runner\'s first batch counts its tests\' c only: its wall, which carries the runner\'s start, is no point of the start-cost fit', async () => {
    const ids = withCosts(Array(6).fill(0)).ids;
    const run = await newRun(ids, new Map(), { batchMs: 3_100, share: 1, guessMs: 1_000 });
    const a = await claimOk(run, 'w1');
    expect(a.tests.length).toBe(3);
    const l = await lease(run, a.lease);
    // The batch runs 2 s (Redis TIME), well beyond its c (300 ms): the runner's start.
    await waitFor('the batch to run 2 s (Redis TIME)', async () => (await redisNow()) >= l.s + 2_000, 10_000, 20);
    await run.q.report(run.epoch, 'w1', a.lease, 'finished', withC(a.tests, [100, 100, 100]), true);
    expect(await redis.hget(run.keys.meta, 'cobs')).toBeNull();
    expect((await redis.hget(run.keys.meta, 'gobs'))?.split('|').map(Number)).toEqual([3, 300]);
    expect((await lease(run, a.lease)).r).toBe(true);
    // The next batch of the same runner is warm: its wall minus its c is a point of the fit.
    const b = await claimOk(run, 'w1');
    await run.q.report(run.epoch, 'w1', b.lease, 'finished', withC(b.tests, b.tests.map(() => 100)));
    expect((await redis.hget(run.keys.meta, 'cobs'))?.split('|').map(Number).slice(0, 2)).toEqual([1, b.tests.length]);
    expect((await lease(run, b.lease)).r).toBeUndefined();
  });

  test('without c, a batch\'s wall less the start cost and the known costs is spread over its unknown tests', async () => {
    // Two unknown tests and a known one (300 ms).
    const costs = new Map([['k', 300]]);
    const run = await newRun(['k', 'u1', 'u2', 'u3'], costs, { share: 1, batchSize: 3, guessMs: 1_000 });
    const a = await claimOk(run, 'w1');
    expect(a.tests).toEqual(['k', 'u1', 'u2']);
    const l = await lease(run, a.lease);
    await waitFor('the batch to run 1 s (Redis TIME)', async () => (await redisNow()) >= l.s + 1_000, 10_000, 20);
    const before = await redisNow();
    await reportPassed(run, 'w1', a);
    const wall = [before - l.s, (await redisNow()) - l.s];
    const [n, total] = (await redis.hget(run.keys.meta, 'gobs'))!.split('|').map(Number);
    expect(n).toBe(2);
    expect(total).toBeGreaterThanOrEqual(wall[0] - 300);
    expect(total).toBeLessThanOrEqual(wall[1] - 300);
    // Not every test was unknown: no point for the start-cost fit; no c: none for cobs either.
    expect(await redis.hmget(run.keys.meta, 'fit', 'cobs')).toEqual([null, null]);
    // A batch that timed out, or lost a result, says nothing; nor does any batch in count mode.
    const b = await claimOk(run, 'w1');
    await run.q.report(run.epoch, 'w1', b.lease, 'timed-out', new Map());
    expect((await redis.hget(run.keys.meta, 'gobs'))!.split('|').map(Number)[0]).toBe(2);
    const count = await newRun(['x1', 'x2'], new Map(), { batchMs: 0, batchSize: 2, guessMs: 1_000 });
    await reportPassed(count, 'w1', await claimOk(count, 'w1'));
    expect(await redis.hmget(count.keys.meta, 'gobs', 'fit', 'jfit', 'cobs')).toEqual([null, null, null, null]);
  });

  test('the start cost claims plan with: the timings\', else the intercept of wall - sum of c over batch sizes, else the fitted intercept (JUnit sums, else counts)', async () => {
    // (tests in the batch, wall) of three batches of unknown tests: wall = 2 s + 0.5 s per test.
    const pts = [[1, 2_500], [2, 3_000], [4, 4_000]];
    const fit = [3, pts.reduce((a, p) => a + p[0], 0), pts.reduce((a, p) => a + p[1], 0), pts.reduce((a, p) => a + p[0] * p[0], 0), pts.reduce((a, p) => a + p[0] * p[1], 0)].join('|');
    const { ids, costs } = withCosts(Array.from({ length: 40 }, () => 1_000));
    const startOf = async (settings: Partial<RunSettings>, fields: Record<string, string>) => {
      const run = await newRun(ids, costs, { share: 0.5, ...settings });
      if (Object.keys(fields).length) await redis.hset(run.keys.meta, fields);
      const c = await claimOk(run, 'w1');
      return (await lease(run, c.lease)).c! - c.tests.length * 1_000;
    };
    expect(await startOf({}, { fit })).toBe(2_000);
    expect(await startOf({ startMs: 500 }, { fit })).toBe(500);
    // (tests, wall - sum of c) of batches whose tests all carry c: 300 ms start, 100 ms a test beyond c.
    const cpts = [[1, 400], [2, 500], [4, 700]];
    const cobs = [3, cpts.reduce((a, p) => a + p[0], 0), cpts.reduce((a, p) => a + p[1], 0), cpts.reduce((a, p) => a + p[0] * p[0], 0), cpts.reduce((a, p) => a + p[0] * p[1], 0)].join('|');
    expect(await startOf({}, { fit, cobs })).toBe(300);
    // Such batches all of one size say nothing of the start, and the others' fits do not speak for them:
    // a warm runner's time per file is no start cost.
    expect(await startOf({}, { fit, cobs: '2|90|27000|4050|1215000' })).toBe(0);
    // (JUnit sum, wall): wall = 1.2 s + 10 x JUnit.
    const jpts = [[100, 2_200], [300, 4_200], [50, 1_700]];
    const jfit = [3, jpts.reduce((a, p) => a + p[0], 0), jpts.reduce((a, p) => a + p[1], 0), jpts.reduce((a, p) => a + p[0] * p[0], 0), jpts.reduce((a, p) => a + p[0] * p[1], 0)].join('|');
    expect(await startOf({}, { fit, jfit })).toBe(1_200);
    expect(await startOf({}, { fit, jfit, cobs })).toBe(300);
    // Fewer than 3 batches, or batches all of one size, say nothing yet.
    expect(await startOf({}, { fit: '2|3|5500|5|8500' })).toBe(0);
    expect(await startOf({}, { fit: '3|6|9000|12|18000' })).toBe(0);
  });

  test('a report of a batch of unknown tests without c feeds the count fit, and the JUnit fit when every test has a JUnit time', async () => {
    const run = await newRun(['u1', 'u2', 'u3', 'u4'], new Map(), { share: 1, batchSize: 2, guessMs: 1_000 });
    const a = await claimOk(run, 'w1');
    await reportPassed(run, 'w1', a);
    const [n, sx, sy, sxx, sxy] = (await redis.hget(run.keys.meta, 'fit'))!.split('|').map(Number);
    expect([n, sx, sxx]).toEqual([1, 2, 4]);
    expect(sxy).toBeCloseTo(2 * sy, 6);
    expect(sy).toBeGreaterThanOrEqual(0);
    expect(await redis.hget(run.keys.meta, 'jfit')).toBeNull();
    const b = await claimOk(run, 'w1');
    const timed = new Map<string, TestResult>(b.tests.map((id, i) => [id, { outcome: 'passed', durationMs: 100 * (i + 1), message: '', timed: true }]));
    await run.q.report(run.epoch, 'w1', b.lease, 'finished', timed);
    const j = (await redis.hget(run.keys.meta, 'jfit'))!.split('|').map(Number);
    expect([j[0], j[1], j[3]]).toEqual([1, 300, 90_000]);
    expect(j[4]).toBeCloseTo(300 * j[2], 6);
  });
});

describe('inflight aggregates', () => {
  test('follow every lease that starts and ends, back to 0|0|0 after report, release and reap', async () => {
    const { ids, costs } = withCosts([30_000, 20_000, 10_000, 5_000, 5_000, 1_000]);
    // share 2: fair * share stays above batchMs (71 s / 4 * 2), so the target is batchMs, 30 s.
    const run = await newRun(ids, costs, { batchMs: 30_000, share: 2, batchSize: 10 }, ['w1', 'w2', 'w3', 'w4']);
    expect(await expectInflightExact(run)).toMatchObject({ inN: 0, inCost: 0, inStarts: 0 });

    // While another worker holds nothing a batch takes at most an equal part of the queue with the idle:
    // 71 / 4, then 41 / 3, then 21 / 2: one test each.
    const a = await claimOk(run, 'w1'); // 30 s
    const b = await claimOk(run, 'w2'); // 20 s
    const c = await claimOk(run, 'w3'); // 10 s
    expect([a.tests, b.tests, c.tests]).toEqual([['t001'], ['t002'], ['t003']]);
    const all = await expectInflightExact(run);
    expect(all).toMatchObject({ inN: 3, inCost: 60_000, qcost: 11_000 });
    // The summed start times are Redis TIME values, 3 of them, near now.
    const now = await redisNow();
    expect(all.inStarts).toBeGreaterThan(3 * (now - 60_000));
    expect(all.inStarts).toBeLessThanOrEqual(3 * now);

    // report: w1's lease ends.
    await reportPassed(run, 'w1', a);
    expect(await expectInflightExact(run)).toMatchObject({ inN: 2, inCost: 30_000 });
    // release on a signal: w2's lease ends, its test goes to the requeue.
    expect(await run.q.release(run.epoch, 'w2', b.lease, 'cancelled')).toBe(1);
    expect(await expectInflightExact(run)).toMatchObject({ inN: 1, inCost: 10_000 });
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
    await run.q.report(run.epoch, 'w3', c.lease, 'finished', passedAll(c.tests));
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
    // startMs 60 s: the target is 60 s (the floor), room for every test (w1 is the only worker yet).
    const run = await newRun(ids, costs, { batchMs: 60_000, share: 1, startMs: 60_000, batchSize: 10 }, ['w1']);
    const a = await claimOk(run, 'w1');
    expect(a.tests).toEqual(ids);
    await run.q.register('w2');
    // The batch failed without per-test results: every test goes to the requeue (split).
    await run.q.report(run.epoch, 'w1', a.lease, 'split', new Map());
    expect(await redis.lrange(run.keys.requeue, 0, -1)).toEqual(ids);
    const seen: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const w = i % 2 ? 'w2' : 'w1';
      const c = await claimOk(run, w);
      expect(c).toMatchObject({ isolated: true, tests: [ids[i]] });
      // Its own cost plus the start cost.
      expect((await lease(run, c.lease)).c).toBe(10 + 60_000);
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
