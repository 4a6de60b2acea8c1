// The cost model (src/sizing/costmodel.ts): estimates for unknown tests, longest-first ordering, what learn()
// takes from a run's batches (c, the fit of walls without it, folding, which batches count); the
// stored history (a real redis-server: round trip, TTLs, keys apart from the run's). Costs picked up
// from files of an earlier run: test/timings-file.test.ts.
import { describe, expect, test } from 'vitest';
import type { Redis } from 'ioredis';
import { useRedisServer } from './helpers/redis-server.js';
import { runSettings } from './helpers/run-settings.js';
import { TIMINGS_TTL_S, loadTimings, saveTimings } from '../src/sizing/timings.js';
import { ALPHA, DEFAULT_COST_MS, estimate, fold, learn, longestFirst, median, type Timings } from '../src/sizing/costmodel.js';
import { runKeys, timingsKeys } from '../src/queue/keys.js';
import { Queue } from '../src/queue/queue.js';
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
  res?: Record<string, { j?: number; d?: number; c?: number; o?: RunOutcome } | null>;
  endMs?: number | null;
  isolated?: boolean;
  firstOnRunner?: boolean;
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
    recs.push({ id: b.id, worker: 'w1', startMs, endMs, isolated: b.isolated ?? false, firstOnRunner: b.firstOnRunner ?? false, tests: b.tests, state: b.state ?? 'done' });
    for (const t of b.tests) {
      const r = b.res?.[t];
      if (r === null) continue;
      const o = r?.o ?? 'passed';
      const h: HistoryEntry = { t, w: 'w1', b: b.id, i: b.isolated ?? false, o, d: r?.j ?? r?.d ?? 1, m: '', s: startMs, e: endMs ?? startMs };
      if (r?.j !== undefined) h.j = true;
      if (r?.c !== undefined) h.c = r.c;
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

describe('learn: with the runner\'s own cost (c)', () => {
  /** A batch of n tests named <id>t<i>, each of cost c 500 ms, that took the given wall. */
  const measured = (id: string, n: number, wall: number): B => {
    const tests = Array.from({ length: n }, (_, i) => `${id}t${i}`);
    return { id, wall, tests, res: Object.fromEntries(tests.map((t) => [t, { c: 500 }])) };
  };
  /** Warm batches of 1, 2 and 4 such tests: start 400 ms, 300 ms a test beyond c. */
  const warm = () => [1, 2, 4].map((n, b) => measured(`b${b}`, n, 400 + 800 * n));

  test('a test costs c plus the time the runner spends on each test beyond c; the start cost is the intercept of that over batch sizes', () => {
    // Start cost 400 ms, and 300 ms a test that no c shows (vitest's per-file work outside diagnostic()).
    const data = runData([
      { id: '1', wall: 2_700, tests: ['a'], res: { a: { c: 2_000 } } },
      { id: '2', wall: 3_500, tests: ['b', 'c'], res: { b: { c: 1_000 }, c: { c: 1_500 } } },
      { id: '3', wall: 3_600, tests: ['d', 'e', 'f', 'g'], res: { d: { c: 500 }, e: { c: 500 }, f: { c: 500 }, g: { c: 500 } } },
    ]);
    const t = learn(timings(), data);
    expect(t.startMs).toBeCloseTo(400, 6);
    expect(costsOf(t)).toEqual({ a: 2_300, b: 1_300, c: 1_800, d: 800, e: 800, f: 800, g: 800 });
    // A requeued test's isolated batch runs in a fresh process: its wall says nothing of the warm
    // runner's start, so it moves neither the start cost nor the time per test.
    const cold = runData([...warm(), { id: 'iso', wall: 9_500, tests: ['x'], res: { x: { c: 500 } }, isolated: true }]);
    const u = learn(timings(), cold);
    expect(u.startMs).toBeCloseTo(400, 6);
    expect(u.costs.get('x')).toBeCloseTo(800, 6);
  });

  test('a warm runner\'s first batch carries its start: it moves neither the start cost nor the time per test', () => {
    // Warm batches of 1, 2 and 4 files (start 400 ms, 300 ms a file beyond c) and each worker's first
    // batch, which also paid jest's 2.5 s start: taken into the fit, they made the start look like
    // several per cent of a worker's work (rhf), and the next run planned as a cold one.
    const first = (w: string) => ({ ...measured(w, 1, 2_500 + 400 + 800), firstOnRunner: true });
    const flagged = learn(timings(), runData([first('f1'), first('f2'), ...warm()]));
    expect(flagged.startMs).toBeCloseTo(400, 6);
    expect(flagged.costs.get('f1t0')).toBeCloseTo(800, 6);
    expect(flagged.costs.get('b2t0')).toBeCloseTo(800, 6);
    // Unflagged, the same batches put the runner's start into the start cost: what the flag prevents.
    const unflagged = learn(timings(), runData([first('f1'), first('f2'), ...warm()].map((b) => ({ ...b, firstOnRunner: false }))));
    expect(unflagged.startMs).toBeGreaterThan(1_000);
  });

  test('batches all of one size cannot tell the start cost from the time per test: the earlier start cost stays (0 when none) and the tests take the rest', () => {
    // Two warm batches of 45 files each, 13 s beyond their c: vue core's first run, where taking that
    // for a start cost gave each worker one batch in the next run.
    const files = (b: number) => Array.from({ length: 45 }, (_, i) => `b${b}f${i}`);
    const res = (b: number) => Object.fromEntries(files(b).map((f) => [f, { c: 700 }]));
    const alike = runData([1, 2].map((b) => ({ id: String(b), wall: 45 * 700 + 13_500, tests: files(b), res: res(b) })));
    const fresh = learn(timings(), alike);
    expect(fresh.startMs).toBe(0);
    expect(fresh.costs.get('b1f0')).toBeCloseTo(1_000, 6);
    const known = learn(timings({}, 900), alike);
    expect(known.startMs).toBe(900);
    expect(known.costs.get('b1f0')).toBeCloseTo(700 + 12_600 / 45, 6);
  });

  test('tests without c in a batch share what the wall shows beyond the start cost and the cost of the others', () => {
    const data = runData([
      { id: '1', wall: 3_000, tests: ['a'], res: { a: { c: 2_000 } } }, // 1000 beyond c: a's own (start cost 0)
      { id: '2', wall: 9_000, tests: ['b', 'x', 'y'], res: { b: { c: 2_000 }, x: { j: 300 }, y: { j: 100 } } },
    ]);
    const t = learn(timings(), data);
    expect(t.startMs).toBe(0);
    // 9000 - (2000 + 1000) = 6000 over x and y; the fit says nothing of their shape (one batch), so evenly.
    expect(costsOf(t)).toMatchObject({ a: 3_000, b: 3_000, x: 3_000, y: 3_000 });
  });
});

describe('learn: without c, walls fitted as S + a x (tests) + k x (JUnit)', () => {
  test('recovers the start cost and the tests\' shape when JUnit shows a tenth of each test, and every batch\'s wall is explained', () => {
    // Real cost of a test = 10 x its JUnit time + 800 ms it does not time; start cost 2 s per batch.
    const junit: Record<string, number> = { a: 100, b: 2_000, c: 50, d: 700, e: 300, f: 1_200, g: 10, h: 400, i: 900 };
    const real = (id: string) => 10 * junit[id] + 800;
    const groups = [['a', 'b'], ['c'], ['d', 'e', 'f'], ['g', 'h'], ['i'], ['a', 'c', 'g', 'e']];
    const batches = groups.map((tests, n) => ({
      id: String(n + 1), tests, wall: 2_000 + tests.reduce((x, t) => x + real(t), 0),
      res: Object.fromEntries(tests.map((t) => [t, { j: junit[t] }])),
    }));
    const t = learn(timings(), runData(batches));
    expect(t.startMs).toBeCloseTo(2_000, 0);
    for (const id of Object.keys(junit)) expect(t.costs.get(id), id).toBeCloseTo(real(id), -1);
  });

  test('exit codes only (no JUnit): batches of different sizes tell the start cost from the per-test cost', () => {
    const batches = [1, 2, 4, 3].map((n, b) => ({ id: String(b + 1), tests: Array.from({ length: n }, (_, i) => `b${b}t${i}`), wall: 3_000 + 500 * n }));
    const t = learn(timings(), runData(batches));
    expect(t.startMs).toBeCloseTo(3_000, 0);
    expect(t.costs.get('b2t3')).toBeCloseTo(500, 0);
  });

  test('batches all alike, or fewer than 3, cannot tell the start cost: the earlier one stays (null when never measured) and the tests take the rest', () => {
    const alike = runData([1, 2, 3].map((b) => ({ id: String(b), tests: [`x${b}`, `y${b}`], wall: 2_000 })));
    const fresh = learn(timings(), alike);
    expect(fresh.startMs).toBeNull();
    expect(fresh.costs.get('x1')).toBe(1_000);
    const known = learn(timings({}, 1_000), alike);
    expect(known.startMs).toBe(1_000);
    expect(known.costs.get('x1')).toBe(500);
    const one = learn(timings({}, 1_234), runData([{ id: '1', wall: 2_000, tests: ['x', 'y'] }]));
    expect(one.startMs).toBe(1_234);
  });

  test('earlier costs: the start cost is the median of wall - known costs, and each batch\'s rest is spread in their proportion', () => {
    const prev = timings({ a: 1_000, b: 2_000, c: 500 });
    const data = runData([
      { id: '1', wall: 4_000, tests: ['a', 'b'] }, // 4000 - 3000 = 1000
      { id: '2', wall: 3_500, tests: ['c'] }, //       3500 - 500 = 3000
      { id: '3', wall: 1_500, tests: ['a'] }, //       1500 - 1000 = 500
    ]);
    const t = learn(prev, data);
    expect(t.startMs).toBe(1_000);
    // Batch 1: 3000 split 1:2, as before. c: 2500 observed, far (> 2x) from 500: taken as is.
    expect(t.costs.get('b')).toBe(2_000);
    expect(t.costs.get('c')).toBe(2_500);
  });

  test('is clamped at 0 when the members cost more than the wall time', () => {
    const prev = timings({ a: 10_000, b: 8_000 });
    const t = learn(prev, runData([{ id: '1', wall: 2_000, tests: ['a'] }, { id: '2', wall: 3_000, tests: ['b'] }]));
    expect(t.startMs).toBe(0);
    expect(t.costs.get('a')).toBe(2_000);
  });
});

describe('learn: folding a run into the timings', () => {
  test('fold: a moving average by ALPHA within a factor JUMP, else the new value', () => {
    expect(fold(undefined, 700)).toBe(700);
    expect(fold(null, 700)).toBe(700);
    expect(fold(1_000, 1_800)).toBe(ALPHA * 1_800 + (1 - ALPHA) * 1_000);
    expect(fold(1_000, 600)).toBe(ALPHA * 600 + (1 - ALPHA) * 1_000);
    expect(fold(1_000, 2_100)).toBe(2_100);
    expect(fold(1_000, 400)).toBe(400);
  });

  test('the start cost and a test\'s cost move by fold, in batch order for a test run twice', () => {
    const prev = timings({ a: 1_000, p: 1_000 }, 800);
    const data = runData([
      { id: 's', wall: 2_000, tests: ['p'] }, // 1000
      { id: 'r1', wall: 2_600, tests: ['a'] }, // 1600
      { id: 'r2', wall: 2_200, tests: ['a'] }, // 1200
    ]);
    const t = learn(prev, data);
    expect(t.startMs).toBe(fold(800, 1_200));
    const afterR1 = fold(1_000, 2_600 - 1_200);
    expect(t.costs.get('a')).toBe(fold(afterR1, 2_200 - 1_200));
  });

  test('leaves the prior timings untouched and keeps tests this run did not see', () => {
    const prev = timings({ p: 1_000, other: 42 }, 900);
    const before = costsOf(prev);
    const t = learn(prev, runData([{ id: 'b', wall: 5_000, tests: ['x'] }]));
    expect(costsOf(prev)).toEqual(before);
    expect(prev.startMs).toBe(900);
    expect(t.costs.get('other')).toBe(42);
    expect(t.costs).not.toBe(prev.costs);
  });

  test('measured: the part of this run\'s observed tests that carried c; kept when the run observed nothing', () => {
    const data = runData([
      { id: '1', wall: 3_000, tests: ['a', 'b'], res: { a: { c: 1_000 } } },
      { id: '2', wall: 3_000, tests: ['c', 'd'], res: { c: { c: 1_000 }, d: { c: 1_000 } } },
    ]);
    expect(learn(timings(), data).measured).toBe(0.75);
    expect(learn({ ...timings(), measured: 0.5 }, runData([])).measured).toBe(0.5);
    expect(learn(timings(), runData([])).measured).toBeUndefined();
  });

  test('failed and skipped results count as results', () => {
    const data = runData([{ id: 'b', wall: 5_000, tests: ['x', 'y'], res: { x: { o: 'failed', c: 1_000 }, y: { o: 'skipped', c: 3_000 } } }]);
    // The wall's 1000 ms beyond c, 500 ms each.
    expect(costsOf(learn(timings(), data))).toEqual({ x: 1_500, y: 3_500 });
  });

  test('JUnit showing 5-15 % of each test\'s cost, drawn per test: no batch\'s estimate falls far below its wall, whatever the earlier timings', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 30; trial++) {
      const ids = Array.from({ length: 60 }, (_, i) => `t${i}`);
      const real = new Map(ids.map((id) => [id, 100 + 20_000 * rand() ** 3]));
      const start = 600 + 2_900 * rand();
      const batches: B[] = [];
      for (let i = 0, b = 0; i < ids.length; b++) {
        const tests = ids.slice(i, i + 1 + Math.floor(rand() * 8));
        i += tests.length;
        batches.push({
          id: String(b), tests, wall: Math.round(start + tests.reduce((a, t) => a + real.get(t)!, 0)),
          res: Object.fromEntries(tests.map((t) => [t, { j: Math.round(real.get(t)! * (0.05 + 0.1 * rand())) }])),
        });
      }
      // Earlier timings: none, or off by up to 10x either way.
      const prev = trial % 2 ? timings() : timings(Object.fromEntries(ids.map((id) => [id, real.get(id)! * 10 ** (2 * rand() - 1)])), 3_000 * rand());
      const t = learn(prev, runData(batches));
      for (const b of batches) {
        const est = (t.startMs ?? 0) + b.tests.reduce((a, id) => a + t.costs.get(id)!, 0);
        expect(est, `trial ${trial}, batch ${b.id}`).toBeGreaterThanOrEqual(0.75 * b.wall);
      }
    }
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
  let redis: Redis;
  let n = 0;
  const repo = () => `own/repo-${process.pid}-${++n}`;
  useRedisServer((server) => (redis = server.client()));

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

  test('the part of the costs the runner measured round-trips; absent or out of range, it loads as unknown', async () => {
    const r = repo();
    await saveTimings(redis, r, 'tests', { ...timings({ a: 1 }, 5), measured: 0.25 }, ['a']);
    expect((await loadTimings(redis, r, 'tests', ['a'])).measured).toBe(0.25);
    await redis.hset(timingsKeys(r, 'tests').meta, 'measured', '7');
    expect((await loadTimings(redis, r, 'tests', ['a'])).measured).toBeUndefined();
    expect((await loadTimings(redis, repo(), 'tests', ['a'])).measured).toBeUndefined();
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
    await q.reset('e1', 60, runSettings({ batchSize: 10 }));
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
