// The cost model (src/timings.ts): estimates for unknown tests, longest-first ordering, what learn()
// takes from a run's batches (start cost, per-test shares, moving average, which batches count), the
// stored history (a real redis-server: round trip, TTLs, keys apart from the run's) and costs picked
// up from JUnit files of an earlier run.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Redis } from 'ioredis';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer } from './helpers/redis-server.js';
import {
  ALPHA, DEFAULT_COST_MS, TIMINGS_TTL_S, estimate, junitScale, learn, loadTimings, longestFirst, median, saveTimings, timingsFromJUnit,
  timingsKeys, type Timings,
} from '../src/timings.js';
import { runKeys } from '../src/keys.js';
import { Queue } from '../src/queue.js';
import type { BatchRecord, HistoryEntry, RunData, RunOutcome } from '../src/types.js';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function timings(costs: Record<string, number> = {}, startMs: number | null = null): Timings {
  return { costs: new Map(Object.entries(costs)), startMs };
}

const T0 = 1_700_000_000_000;

interface B {
  id: string;
  wall: number;
  tests: string[];
  state?: BatchRecord['state'];
  /** Per member: a JUnit duration (j), a duration not from JUnit (d), another outcome, or no result at all. */
  res?: Record<string, { j?: number; d?: number; o?: RunOutcome } | null>;
  endMs?: number | null;
}

/** A RunData of the given batches; each member gets a passed result with d = 1 (j false) unless told. */
function runData(batches: B[]): RunData {
  const history: HistoryEntry[] = [];
  const recs: BatchRecord[] = [];
  let at = T0;
  for (const b of batches) {
    const startMs = at;
    const endMs = b.endMs === undefined ? startMs + b.wall : b.endMs;
    at += b.wall + 1_000;
    recs.push({ id: b.id, worker: 'w1', startMs, endMs, isolated: false, tests: b.tests, state: b.state ?? 'done' });
    for (const t of b.tests) {
      const r = b.res?.[t];
      if (r === null) continue;
      const o = r?.o ?? 'passed';
      const h: HistoryEntry = { t, w: 'w1', b: b.id, i: false, o, d: r?.j ?? r?.d ?? 1, m: '', s: startMs, e: endMs ?? startMs };
      if (r?.j !== undefined) h.j = true;
      history.push(h);
    }
  }
  const ids = [...new Set(batches.flatMap((b) => b.tests))];
  return {
    queue: 'tests', run: '1-1', state: 'complete', abortReason: '', seededAtMs: T0, completedAtMs: at, nowMs: at,
    tests: ids.map((id) => ({ id, status: 'passed' })), history, workers: [], batches: recs,
  };
}

function costsOf(t: Timings): Record<string, number> {
  return Object.fromEntries([...t.costs].sort(([a], [b]) => a.localeCompare(b)));
}

// ---------------------------------------------------------------------------------------------
// estimate, longestFirst, median
// ---------------------------------------------------------------------------------------------

describe('estimate', () => {
  test('known tests keep their cost; unknown ones get the median of the known ones (odd count)', () => {
    const est = estimate(['a', 'x', 'b', 'c', 'y'], timings({ a: 100, b: 900, c: 300 }));
    expect(Object.fromEntries(est)).toEqual({ a: 100, x: 300, b: 900, c: 300, y: 300 });
    expect([...est.keys()]).toEqual(['a', 'x', 'b', 'c', 'y']);
  });

  test('the median of an even count is the mean of the middle two', () => {
    const est = estimate(['a', 'b', 'c', 'd', 'new'], timings({ a: 100, b: 200, c: 1_000, d: 5_000 }));
    expect(est.get('new')).toBe(600);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  test('only the known costs of the listed tests make the median', () => {
    const est = estimate(['a', 'new'], timings({ a: 100, gone1: 10_000, gone2: 10_000 }));
    expect(est.get('new')).toBe(100);
  });

  test('with nothing known every test gets the fixed guess', () => {
    expect(DEFAULT_COST_MS).toBeGreaterThan(0);
    expect(Object.fromEntries(estimate(['a', 'b'], timings()))).toEqual({ a: DEFAULT_COST_MS, b: DEFAULT_COST_MS });
    expect(estimate([], timings()).size).toBe(0);
  });

  test('a known cost of 0 is known (not replaced by the guess)', () => {
    const est = estimate(['a', 'b'], timings({ a: 0 }));
    expect(Object.fromEntries(est)).toEqual({ a: 0, b: 0 });
  });
});

describe('longestFirst', () => {
  test('sorts by cost, longest first, ties keeping the listed order, without touching its input', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const est = new Map([['a', 5], ['b', 9], ['c', 5], ['d', 1], ['e', 9], ['f', 5], ['g', 0]]);
    const copy = [...ids];
    expect(longestFirst(ids, est)).toEqual(['b', 'e', 'a', 'c', 'f', 'd', 'g']);
    expect(ids).toEqual(copy);
    // Reversing the listed order reverses only the ties.
    expect(longestFirst([...ids].reverse(), est)).toEqual(['e', 'b', 'f', 'c', 'a', 'd', 'g']);
  });

  test('stable for a long list of equal costs (every test unknown)', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `t${i}`);
    expect(longestFirst(ids, estimate(ids, timings()))).toEqual(ids);
  });

  test('a test missing from the estimates sorts as 0', () => {
    expect(longestFirst(['x', 'a', 'y'], new Map([['a', 3]]))).toEqual(['a', 'x', 'y']);
  });
});

// ---------------------------------------------------------------------------------------------
// learn
// ---------------------------------------------------------------------------------------------

describe('learn: the start cost', () => {
  test('is the median over batches of wall minus the members\' prior costs', () => {
    const prev = timings({ a: 1_000, b: 2_000, c: 500 });
    const data = runData([
      { id: '1', wall: 4_000, tests: ['a', 'b'] }, // 4000 - 3000 = 1000
      { id: '2', wall: 3_500, tests: ['c'] }, //       3500 - 500 = 3000
      { id: '3', wall: 1_500, tests: ['a'] }, //       1500 - 1000 = 500
    ]);
    expect(learn(prev, data).startMs).toBe(1_000);
  });

  test('uses JUnit times (j) for members without a prior cost; a member with neither leaves the batch out', () => {
    const prev = timings({ a: 1_000 });
    const data = runData([
      { id: '1', wall: 2_700, tests: ['x'], res: { x: { j: 700 } } }, //          2000
      { id: '2', wall: 3_000, tests: ['a', 'y'], res: { y: { j: 500 } } }, //     3000 - 1500 = 1500
      { id: '3', wall: 90_000, tests: ['a', 'z'], res: { z: { d: 10 } } }, //   z: no prior, d not from JUnit: left out
      { id: '4', wall: 1_000, tests: ['a'] }, //                                     0
    ]);
    expect(learn(prev, data).startMs).toBe(1_500);
  });

  test('a prior cost wins over the JUnit time for the residual', () => {
    const prev = timings({ a: 1_000 });
    const data = runData([{ id: '1', wall: 5_000, tests: ['a'], res: { a: { j: 4_900 } } }]);
    expect(learn(prev, data).startMs).toBe(4_000);
  });

  test('is clamped at 0 when the members cost more than the wall time', () => {
    const prev = timings({ a: 10_000, b: 8_000 });
    const data = runData([
      { id: '1', wall: 2_000, tests: ['a'] },
      { id: '2', wall: 3_000, tests: ['b'] },
    ]);
    const t = learn(prev, data);
    expect(t.startMs).toBe(0);
    // Nothing is left for the members: work = max(0, wall - 0) = wall.
    expect(t.costs.get('a')).toBe(ALPHA * 2_000 + (1 - ALPHA) * 10_000);
  });

  test('moves by ALPHA from the prior start cost', () => {
    const prev = timings({ a: 1_000 }, 3_000);
    const data = runData([{ id: '1', wall: 2_000, tests: ['a'] }]); // residual 1000
    expect(learn(prev, data).startMs).toBe(ALPHA * 1_000 + (1 - ALPHA) * 3_000);
  });

  test('stays what it was when no batch can say (unknown members, no JUnit), and null when never measured', () => {
    const data = runData([{ id: '1', wall: 2_000, tests: ['x', 'y'] }]);
    expect(learn(timings({}, 1_234), data).startMs).toBe(1_234);
    const fresh = learn(timings(), data);
    expect(fresh.startMs).toBeNull();
    // With no start cost known, the whole wall time is the members' work, split evenly.
    expect(costsOf(fresh)).toEqual({ x: 1_000, y: 1_000 });
  });
});

describe('learn: JUnit times that leave part of the cost out', () => {
  test('junitScale fits wall = start + k x JUnit sum; 1 below 3 batches or when the sums hardly vary; k in [1, 5]', () => {
    const line = (k: number, start: number, sums: number[]) => sums.map((j) => ({ junit: j, wall: start + k * j }));
    expect(junitScale(line(1 / 0.7, 1_500, [1_000, 5_000, 20_000, 300, 9_000]))).toBeCloseTo(1 / 0.7, 6);
    expect(junitScale(line(2, 0, [1_000, 5_000]))).toBe(1);
    expect(junitScale(line(2, 0, [10_000, 10_100, 9_950, 10_050]))).toBe(1);
    expect(junitScale(line(9, 0, [1_000, 5_000, 20_000]))).toBe(5);
    expect(junitScale(line(0.5, 3_000, [1_000, 5_000, 20_000]))).toBe(1);
    expect(junitScale([])).toBe(1);
  });

  test('the time JUnit leaves out grows with the batch, so it is not taken for start cost', () => {
    // A runner whose JUnit reports 70 % of the real time, with a start cost of 1.5 s per batch.
    const real: Record<string, number> = { a: 20_000, b: 600, c: 3_000, d: 9_000, e: 150, f: 1_200, g: 40_000 };
    const groups = [['a', 'b'], ['c'], ['d', 'e', 'f'], ['g'], ['b', 'e']];
    const data = runData(groups.map((tests, i) => ({
      id: String(i + 1), tests, wall: 1_500 + tests.reduce((x, t) => x + real[t], 0),
      res: Object.fromEntries(tests.map((t) => [t, { j: 0.7 * real[t] }])),
    })));
    const t = learn(timings(), data);
    expect(t.startMs).toBeCloseTo(1_500, 0);
    for (const [id, ms] of Object.entries(real)) expect(t.costs.get(id), id).toBeCloseTo(ms, -1);
  });
});

describe('learn: a test\'s cost', () => {
  // Batches 's1' and 's2' pin the start cost to 1000 (median of 1000, 1000 and one more residual).
  const pin: B[] = [
    { id: 's1', wall: 2_000, tests: ['p1'] },
    { id: 's2', wall: 2_000, tests: ['p2'] },
  ];
  const pinned = { p1: 1_000, p2: 1_000 };

  test('is its share of (wall - start), split by JUnit times', () => {
    const data = runData([...pin, { id: 'b', wall: 5_000, tests: ['x', 'y'], res: { x: { j: 300 }, y: { j: 100 } } }]);
    const t = learn(timings(pinned), data);
    expect(t.startMs).toBe(1_000); // residuals 1000, 1000, 4600
    expect(t.costs.get('x')).toBe(3_000);
    expect(t.costs.get('y')).toBe(1_000);
    expect(t.costs.get('p1')).toBe(1_000);
  });

  test('is split evenly without JUnit times or prior costs, and when only some members have a JUnit time', () => {
    const data = runData([
      ...pin,
      { id: 'even', wall: 4_000, tests: ['x', 'y', 'z'] },
      { id: 'mixed', wall: 5_000, tests: ['u', 'v'], res: { u: { j: 3_900 } } },
    ]);
    const t = learn(timings(pinned), data);
    expect(t.startMs).toBe(1_000); // residuals 1000, 1000: 'even' and 'mixed' have members with no cost to subtract
    expect(costsOf(t)).toEqual({ p1: 1_000, p2: 1_000, x: 1_000, y: 1_000, z: 1_000, u: 2_000, v: 2_000 });
  });

  test('JUnit times of 0 all round split evenly', () => {
    const data = runData([...pin, { id: 'b', wall: 3_000, tests: ['x', 'y'], res: { x: { j: 0 }, y: { j: 0 } } }]);
    expect(costsOf(learn(timings(pinned), data))).toMatchObject({ x: 1_000, y: 1_000 });
  });

  test('without JUnit times, prior costs weight the split (pins the code; the module header says "evenly")', () => {
    const prev = timings({ ...pinned, a: 3_000, b: 1_000 });
    const data = runData([...pin, { id: 'b', wall: 9_000, tests: ['a', 'b'] }]); // residual 5000; start 1000
    const t = learn(prev, data);
    expect(t.startMs).toBe(1_000);
    // work 8000 split 3:1 -> 6000 and 2000, then the moving average with the prior values.
    expect(t.costs.get('a')).toBe(ALPHA * 6_000 + (1 - ALPHA) * 3_000);
    expect(t.costs.get('b')).toBe(ALPHA * 2_000 + (1 - ALPHA) * 1_000);
  });

  test('moves by ALPHA from the prior value, in batch order for a test run twice', () => {
    const prev = timings({ ...pinned, a: 1_000 });
    const data = runData([
      ...pin,
      { id: 'r1', wall: 5_000, tests: ['a'] }, // residual 4000
      { id: 'r2', wall: 3_000, tests: ['a'] }, // residual 2000
    ]);
    const t = learn(prev, data);
    expect(t.startMs).toBe(1_500); // median of 1000, 1000, 4000, 2000
    // r1: work 3500 -> a = A*3500 + (1-A)*1000; then r2: work 1500 -> A*1500 + (1-A)*that.
    const afterR1 = ALPHA * 3_500 + (1 - ALPHA) * 1_000;
    expect(t.costs.get('a')).toBe(ALPHA * 1_500 + (1 - ALPHA) * afterR1);
    expect(t.costs.get('p1')).toBe(ALPHA * 500 + (1 - ALPHA) * 1_000);
    // A test first seen this run takes its observation as is.
    const fresh = learn(timings(pinned), runData([...pin, { id: 'n', wall: 4_000, tests: ['new'] }]));
    expect(fresh.costs.get('new')).toBe(3_000);
  });

  test('leaves the prior timings untouched and keeps tests this run did not see', () => {
    const prev = timings({ ...pinned, other: 42 }, 900);
    const before = costsOf(prev);
    const t = learn(prev, runData([...pin, { id: 'b', wall: 5_000, tests: ['x'] }]));
    expect(costsOf(prev)).toEqual(before);
    expect(prev.startMs).toBe(900);
    expect(t.costs.get('other')).toBe(42);
    expect(t.costs).not.toBe(prev.costs);
  });

  test('failed and skipped results count as results', () => {
    const data = runData([
      ...pin,
      { id: 'b', wall: 5_000, tests: ['x', 'y'], res: { x: { o: 'failed', j: 100 }, y: { o: 'skipped', j: 300 } } },
    ]);
    const t = learn(timings(pinned), data);
    expect(t.costs.get('x')).toBe(1_000);
    expect(t.costs.get('y')).toBe(3_000);
  });
});

describe('learn: batches that say nothing', () => {
  const prev = timings({ a: 1_000, b: 1_000, c: 1_000 }, 1_000);
  const good = { id: 'good', wall: 3_000, tests: ['a'] } satisfies B; // residual 2000: start 1500, a -> 1500

  test.each([
    ['reclaimed', { id: 'bad', wall: 99_000, tests: ['b', 'c'], state: 'reclaimed' } satisfies B],
    ['released', { id: 'bad', wall: 99_000, tests: ['b', 'c'], state: 'released' } satisfies B],
    ['still active', { id: 'bad', wall: 99_000, tests: ['b', 'c'], state: 'active', endMs: null } satisfies B],
    ['done without an end time', { id: 'bad', wall: 99_000, tests: ['b', 'c'], endMs: null } satisfies B],
    ['timed out (a member without a result)', { id: 'bad', wall: 99_000, tests: ['b', 'c'], res: { c: { o: 'timeout' } } } satisfies B],
    ['lost a member\'s result', { id: 'bad', wall: 99_000, tests: ['b', 'c'], res: { c: { o: 'lost' } } } satisfies B],
    ['split', { id: 'bad', wall: 99_000, tests: ['b', 'c'], res: { b: { o: 'split' }, c: { o: 'split' } } } satisfies B],
    ['missing a member in the history', { id: 'bad', wall: 99_000, tests: ['b', 'c'], res: { c: null } } satisfies B],
  ])('%s: ignored for the start cost and for its members', (_name, bad) => {
    const alone = learn(prev, runData([good]));
    const both = learn(prev, runData([good, bad]));
    expect(alone.startMs).toBe(ALPHA * 2_000 + (1 - ALPHA) * 1_000);
    expect(both.startMs).toBe(alone.startMs);
    expect(costsOf(both)).toEqual(costsOf(alone));
    expect(both.costs.get('b')).toBe(1_000);
    expect(both.costs.get('c')).toBe(1_000);
  });

  test('a late result of a reclaimed lease (recorded under its batch id) is ignored', () => {
    const data = runData([good, { id: 'late', wall: 50_000, tests: ['b'], state: 'reclaimed' }]);
    expect(data.history.some((h) => h.b === 'late' && h.o === 'passed')).toBe(true);
    expect(learn(prev, data).costs.get('b')).toBe(1_000);
  });

  test('no batches at all: the timings come back unchanged', () => {
    const t = learn(prev, runData([]));
    expect(costsOf(t)).toEqual(costsOf(prev));
    expect(t.startMs).toBe(1_000);
  });
});

// ---------------------------------------------------------------------------------------------
// loadTimings / saveTimings (real redis-server)
// ---------------------------------------------------------------------------------------------

describe('stored timings', () => {
  let srv: RedisServer;
  let redis: Redis;
  let n = 0;
  const repo = () => `own/repo-${process.pid}-${++n}`;

  beforeAll(async () => {
    srv = await RedisServer.start();
    redis = srv.client();
  });

  afterAll(async () => {
    redis?.disconnect();
    await srv?.close();
  });

  test('round trip: costs and start cost rounded to whole ms, only the tests asked for', async () => {
    const r = repo();
    const t = timings({ a: 1_234.4, b: 0, c: 99.6, notSaved: 5 }, 812.5);
    await saveTimings(redis, r, 'tests', t, ['a', 'b', 'c', 'unknown']);
    const back = await loadTimings(redis, r, 'tests', ['a', 'b', 'c', 'notSaved', 'unknown']);
    expect(costsOf(back)).toEqual({ a: 1_234, b: 0, c: 100 });
    expect(back.startMs).toBe(813);
    // Only what is asked for is read.
    expect(costsOf(await loadTimings(redis, r, 'tests', ['c']))).toEqual({ c: 100 });
  });

  test('both keys get the timings TTL (PTTL > 0), refreshed by every save', async () => {
    const r = repo();
    await saveTimings(redis, r, 'tests', timings({ a: 1 }, 5), ['a']);
    const k = timingsKeys(r, 'tests');
    for (const key of [k.costs, k.meta]) {
      const pttl = await redis.pttl(key);
      expect(pttl, key).toBeGreaterThan(0);
      expect(pttl, key).toBeLessThanOrEqual(TIMINGS_TTL_S * 1000);
      expect(pttl, key).toBeGreaterThan((TIMINGS_TTL_S - 60) * 1000);
    }
    await redis.pexpire(k.costs, 10_000);
    await redis.pexpire(k.meta, 10_000);
    await saveTimings(redis, r, 'tests', timings({ b: 2 }, null), ['b']);
    for (const key of [k.costs, k.meta]) expect(await redis.pttl(key), key).toBeGreaterThan(10_000);
    // The start cost saved before stays when none is known now.
    expect((await loadTimings(redis, r, 'tests', ['a', 'b'])).startMs).toBe(5);
  });

  test('a start cost never measured loads as null; 0 loads as 0', async () => {
    const r = repo();
    await saveTimings(redis, r, 'tests', timings({ a: 1 }, null), ['a']);
    expect(await redis.exists(timingsKeys(r, 'tests').meta)).toBe(0);
    expect((await loadTimings(redis, r, 'tests', ['a'])).startMs).toBeNull();
    await saveTimings(redis, r, 'tests', timings({}, 0), []);
    expect((await loadTimings(redis, r, 'tests', ['a'])).startMs).toBe(0);
    expect((await loadTimings(redis, 'nobody/never', 'tests', ['a']))).toEqual({ costs: new Map(), startMs: null });
  });

  test('values that are not a cost are skipped on load', async () => {
    const r = repo();
    const k = timingsKeys(r, 'tests');
    await redis.hset(k.costs, 'ok', '10', 'neg', '-5', 'nan', 'abc', 'inf', 'Infinity');
    await redis.expire(k.costs, 60);
    const t = await loadTimings(redis, r, 'tests', ['ok', 'neg', 'nan', 'inf']);
    expect(t.costs.get('ok')).toBe(10);
    expect(t.costs.has('neg')).toBe(false);
    expect(t.costs.has('nan')).toBe(false);
    expect(t.costs.has('inf')).toBe(false);
  });

  test('more tests than one chunk (1000) load and save in full', async () => {
    const r = repo();
    const ids = Array.from({ length: 2_345 }, (_, i) => `t${i}`);
    await saveTimings(redis, r, 'tests', timings(Object.fromEntries(ids.map((id, i) => [id, i]))), ids);
    const back = await loadTimings(redis, r, 'tests', ids);
    expect(back.costs.size).toBe(ids.length);
    expect(back.costs.get('t2344')).toBe(2_344);
  });

  test('keys per repository and queue, outside every run\'s key prefix, and a run\'s reset leaves them', async () => {
    const r = repo();
    const k = timingsKeys(r, 'tests');
    for (const run of ['1-1', '123456-2', 'local']) {
      const rk = runKeys(r, 'tests', run);
      expect(k.costs.startsWith(rk.prefix), run).toBe(false);
      expect(k.meta.startsWith(rk.prefix), run).toBe(false);
    }
    expect(timingsKeys(r, 'other').costs).not.toBe(k.costs);
    expect(timingsKeys(`${r}x`, 'tests').costs).not.toBe(k.costs);
    // One hash tag for both keys (a single slot on a cluster).
    const tag = (s: string) => s.slice(s.indexOf('{'), s.indexOf('}') + 1);
    expect(tag(k.costs)).toBe(tag(k.meta));

    await saveTimings(redis, r, 'tests', timings({ a: 7 }, 3), ['a']);
    const rk = runKeys(r, 'tests', '1-1');
    const q = new Queue(redis, rk);
    await q.reset('e1', 60, {
      batchSize: 10, maxAttempts: 3, retries: 0, batchTimeout: 0, heartbeatTtl: 30, maxFailures: 0, batchMs: 0, share: 0.5, startMs: 0,
    });
    await q.seed('e1', ['a'], new Map([['a', 99]]));
    expect(await loadTimings(redis, r, 'tests', ['a'])).toEqual({ costs: new Map([['a', 7]]), startMs: 3 });
  });

  // Were the timings tag {repo/queue/timings}, it would be the tag of the run whose run-id is "timings",
  // and that run's reset would delete the history, its seed overwrite it.
  test('keys never meet a run\'s keys, even for run-id "timings"', () => {
    const k = timingsKeys('o/r', 'tests');
    const rk = runKeys('o/r', 'tests', 'timings');
    expect([rk.meta, rk.costs]).not.toContain(k.costs);
    expect([rk.meta, rk.costs]).not.toContain(k.meta);
  });
});

// ---------------------------------------------------------------------------------------------
// timingsFromJUnit
// ---------------------------------------------------------------------------------------------

describe('timingsFromJUnit', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shardless-timings-'));
    mkdirSync(join(dir, 'reports'));
    writeFileSync(join(dir, 'reports', 'one.xml'), `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="a.test.ts" tests="1">
    <testcase classname="a.test.ts" name="works" time="5"/>
  </testsuite>
  <testsuite name="b.test.ts" tests="2">
    <testcase classname="b.test.ts" name="one" time="1.25"/>
    <testcase classname="b.test.ts" name="two" time="0.5"><failure message="boom"/></testcase>
  </testsuite>
</testsuites>
`);
    writeFileSync(join(dir, 'reports', 'two.xml'), `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="suite" tests="2">
    <testcase classname="x" name="y" file="./d.test.ts" time="0.125"/>
    <testcase classname="zzz.test.ts" name="not listed" time="9"/>
  </testsuite>
</testsuites>
`);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const ids = ['a.test.ts', 'b.test.ts', 'c.test.ts', 'd.test.ts'];

  test('fills in unknown tests only, from every matching file; the start cost and known costs stay', async () => {
    const prev = timings({ 'a.test.ts': 111 }, 77);
    const t = await timingsFromJUnit(prev, 'reports/*.xml', ids, dir);
    expect(costsOf(t)).toEqual({ 'a.test.ts': 111, 'b.test.ts': 1_750, 'd.test.ts': 125 });
    expect(t.startMs).toBe(77);
    // The prior timings are not changed in place.
    expect(costsOf(prev)).toEqual({ 'a.test.ts': 111 });
  });

  test('an absolute pattern works the same', async () => {
    const t = await timingsFromJUnit(timings(), join(dir, 'reports', 'one.xml'), ids, '/');
    expect(costsOf(t)).toEqual({ 'a.test.ts': 5_000, 'b.test.ts': 1_750 });
  });

  test('a pattern matching no file returns the timings as they were', async () => {
    const prev = timings({ 'a.test.ts': 1 }, 2);
    const t = await timingsFromJUnit(prev, 'nothing/*.xml', ids, dir);
    expect(costsOf(t)).toEqual({ 'a.test.ts': 1 });
    expect(t.startMs).toBe(2);
  });
});
