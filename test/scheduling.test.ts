// Scheduling on real costs, against a real redis-server: workers run as concurrent loops that claim,
// "run" a batch (wait until Redis TIME says its start cost plus its tests' real costs have passed) and
// report, as the action's workers do. The controller's side is the real one too: plan() sets the run up,
// and a second run plans from what learn() took from the first run's records. Times are scaled down
// 10x (a 3.5 s start cost is 350 ms here) so that a run takes a few seconds.
//
// Checked at every step:
// - the promise of adaptive batches: a claim that empties the queue with several tests only happens
//   while every other worker holds a batch (no idle worker is left without work);
// - qcost and qunk equal the known costs and the count of unknown tests still queued (read atomically),
//   and inflight agrees with the active leases;
// - and, on the 40-file suite on 3 workers with costs dominated by import (start cost cold and warm,
//   with and without the runner's own cost c, a first run and one on what it learnt): no worker sits
//   idle at the end while another still runs for longer than one file and a start cost, the most a
//   schedule cannot split (two files for a run on guessed costs or costs fitted from walls, which may
//   be a file off);
//   the old rule gave one worker all 40 files, or the last 45 of a suite.
// - and with a warm runner whose files run a third slower on one core than the costs learnt on the
//   other: the tail still shrinks to a few short files, so the workers end together.
import { describe, expect, test } from 'vitest';
import type { Redis } from 'ioredis';
import { useRedisServer, waitFor } from './helpers/redis-server.js';
import { runSettings } from './helpers/run-settings.js';
import { rng } from '../bench/lib.mjs';
import { Queue } from '../src/queue/queue.js';
import { runKeys, type RunKeys } from '../src/queue/keys.js';
import { learn, plan, type Timings } from '../src/sizing/costmodel.js';
import type { ControllerConfig } from '../src/action/inputs.js';
import type { TestResult } from '../src/types.js';

let redis: Redis;
useRedisServer((server) => (redis = server.client()));

const SCALE = 10;

interface Suite { ids: string[]; cost: Map<string, number>; junit: Map<string, number> }

/** 40 files whose cost is mostly import (0.6-3.6 s, scaled), with tests that JUnit times (5-15 % of it). */
function importHeavySuite(seed: number): Suite {
  const rand = rng(seed);
  const ids = Array.from({ length: 40 }, (_, i) => `src/f${String(i + 1).padStart(2, '0')}.test.ts`);
  const cost = new Map<string, number>();
  const junit = new Map<string, number>();
  for (const id of ids) {
    const importMs = (600 + 3_000 * rand() ** 2) / SCALE;
    const testsMs = importMs * (0.05 + 0.1 * rand());
    cost.set(id, Math.round(importMs + testsMs));
    junit.set(id, Math.round(testsMs));
  }
  return { ids, cost, junit };
}

const redisNow = async () => {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
};

/** Atomically: qcost and qunk, and what the queued tests' stored costs say they must be. */
const COHERENCE = `
local q = redis.call('LRANGE', KEYS[2], 0, -1)
local sum, unk = 0, 0
for i = 1, #q, 1000 do
  local vals = redis.call('HMGET', KEYS[3], unpack(q, i, math.min(i + 999, #q)))
  for _, v in ipairs(vals) do if v then sum = sum + tonumber(v) else unk = unk + 1 end end
end
local m = redis.call('HMGET', KEYS[1], 'qcost', 'qunk', 'inflight')
local n, c = 0, 0
local leases = redis.call('HGETALL', KEYS[4])
for i = 1, #leases, 2 do
  if leases[i] ~= '_' then
    local l = cjson.decode(leases[i + 1])
    if l.st == 'active' then n = n + 1; c = c + (l.c or 0) end
  end
end
return { tonumber(m[1]) or 0, tonumber(m[2]) or 0, sum, unk, m[3], n .. '|' .. c }`;

async function expectCoherent(keys: RunKeys, when: string): Promise<void> {
  const [qcost, qunk, sum, unk, inflight, leases] = (await redis.eval(COHERENCE, 4, keys.meta, keys.queue, keys.costs, keys.leases)) as [number, number, number, number, string, string];
  expect({ qcost, qunk }, `qcost and qunk ${when}`).toEqual({ qcost: sum, qunk: unk });
  expect(inflight.split('|').slice(0, 2).join('|'), `inflight ${when}`).toBe(leases);
}

interface Sim {
  startMs: number; withC: boolean; workers: number;
  /** Time a batch spends on each file that the file's c leaves out (vitest's work outside diagnostic()). */
  hiddenMs?: number;
  /** Per worker, how much slower than the suite's costs its files run (a core slower than another). */
  slower?: Record<string, number>;
}
interface SimResult {
  keys: RunKeys; ids: string[];
  batches: { worker: string; n: number; start: number; end: number }[];
  /** Per worker, how long it sat idle before the last batch of the run ended (ms, Redis TIME). */
  idleAtEnd: Map<string, number>;
}

let runs = 0;

/** No timings yet: a first run. */
const NONE: Timings = { costs: new Map(), startMs: null };

/** One run: the controller's plan, then the workers' loops until the run completes. */
async function simulate(suite: Suite, timings: Timings, sim: Sim): Promise<SimResult> {
  runs += 1;
  const cfg = { timings: true, batchDuration: 'auto' } as ControllerConfig;
  const pl = plan(cfg, suite.ids, timings);
  const keys = runKeys('o/r', 'sched', `${process.pid}-${runs}`);
  const q = new Queue(redis, keys);
  const epoch = `e${runs}`;
  await q.reset(epoch, 600, runSettings({
    batchSize: 1000, noWorkerTimeout: 60,
    batchMs: pl.batchMs, share: pl.share, cutStarts: pl.cutStarts, minStarts: pl.minStarts, slackMs: Math.round(pl.slackMs),
    startMs: Math.round(pl.startMs), guessMs: Math.round(timings.costs.size ? pl.guessMs : pl.guessMs / SCALE), workers: sim.workers,
  }));
  await q.seed(epoch, pl.order, pl.costs);
  await q.start(epoch);
  const names = Array.from({ length: sim.workers }, (_, i) => `w${i + 1}`);
  for (const w of names) await q.register(w);
  const held = new Map<string, string[]>();
  const out: SimResult = { keys, ids: suite.ids, batches: [], idleAtEnd: new Map() };
  const loop = async (w: string) => {
    for (;;) {
      const c = await q.claim(epoch, w);
      if (c.kind === 'done') return;
      if (c.kind !== 'ok') {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      held.set(w, c.tests);
      const batch = { worker: w, n: c.tests.length, start: 0, end: 0 };
      out.batches.push(batch);
      await expectCoherent(keys, `after ${w}'s claim of ${c.tests.length}`);
      if (c.tests.length > 1 && (await redis.llen(keys.queue)) === 0) {
        const idle = names.filter((o) => o !== w && !held.has(o));
        expect(idle, `${w} emptied the queue with ${c.tests.length} tests while others held nothing`).toEqual([]);
      }
      const lease = JSON.parse((await redis.hget(keys.leases, c.lease))!) as { s: number };
      const slower = sim.slower?.[w] ?? 1;
      const ends = lease.s + sim.startMs + c.tests.reduce((a, id) => a + slower * suite.cost.get(id)! + (sim.hiddenMs ?? 0), 0);
      await waitFor(`${w}'s batch to run`, async () => (await redisNow()) >= ends, 60_000, 5);
      [batch.start, batch.end] = [lease.s, ends];
      const results = new Map<string, TestResult>(c.tests.map((id) => [id, {
        outcome: 'passed', durationMs: suite.junit.get(id)!, message: '', timed: true, costMs: sim.withC ? Math.round(slower * suite.cost.get(id)!) : undefined,
      }]));
      held.delete(w);
      expect((await q.report(epoch, w, c.lease, 'finished', results)).kind).toBe('ok');
      await expectCoherent(keys, `after ${w}'s report`);
    }
  };
  await Promise.all(names.map(loop));
  const end = Math.max(...out.batches.map((b) => b.end));
  for (const w of names) out.idleAtEnd.set(w, end - Math.max(0, ...out.batches.filter((b) => b.worker === w).map((b) => b.end)));
  return out;
}

async function readBack(r: SimResult): Promise<ReturnType<Queue['readRun']>> {
  return new Queue(redis, r.keys).readRun('sched', 'run', r.ids);
}

describe('the 40-file suite on 3 workers, costs dominated by import', () => {
  for (const [label, startMs] of [['cold (3.5 s start)', 3_500], ['warm (0.3 s start)', 300]] as const) {
    for (const withC of [true, false]) {
      test(`${label}, ${withC ? 'the runner measures each file (c)' : 'JUnit and walls only'}: first run, then a run on what it learnt`, async () => {
        const suite = importHeavySuite(startMs + (withC ? 1 : 0));
        const sim = { startMs: startMs / SCALE, withC, workers: 3 };
        const first = await simulate(suite, NONE, sim);
        const learnt = learn(NONE, await readBack(first));
        // Every file got a cost; the batch walls are explained.
        expect(learnt.costs.size).toBe(40);
        const second = await simulate(suite, learnt, sim);
        // No worker sits idle at the end for longer than the one file and start a schedule cannot split,
        // on costs the runner measured; on costs guessed (a first run) or fitted from walls, which may
        // be a file off, two files: never several.
        const longest = Math.max(...suite.cost.values());
        for (const r of [first, second]) {
          const bound = sim.startMs + (r === second && withC ? 1 : 2) * longest;
          const t0 = Math.min(...r.batches.map((b) => b.start));
          const layout = JSON.stringify(r.batches.map((b) => [b.worker, b.n, b.start - t0, b.end - t0]));
          for (const [w, idle] of r.idleAtEnd) expect(idle, `${w} idle at the end of ${r === first ? 'the first' : 'the second'} run; batches ${layout}`).toBeLessThanOrEqual(bound);
          // All three workers got work.
          expect(new Set(r.batches.map((b) => b.worker)).size).toBe(3);
        }
      });
    }
  }
});

describe('a warm runner whose c leaves out time it spends on each file (vue core in vitest)', () => {
  test('that time is learnt as the files\' cost, not as a start cost, and the run on it keeps every worker busy to the end', async () => {
    const suite = importHeavySuite(42);
    // 0.3 s warm start, 0.3 s a file beyond c (scaled): about a quarter of each file, as on vue core.
    const sim = { startMs: 30, withC: true, workers: 2, hiddenMs: 30 };
    const first = await simulate(suite, NONE, sim);
    const learnt = learn(NONE, await readBack(first));
    // Not a start cost: taken for one, it made each worker's next batch a whole share (vue core: start
    // cost 15.4 s learnt, one batch per worker, 1.18 x the floor).
    expect(learnt.startMs!).toBeLessThan(4 * sim.startMs);
    for (const id of suite.ids) {
      const real = suite.cost.get(id)! + sim.hiddenMs;
      expect(learnt.costs.get(id)!, id).toBeGreaterThan(0.85 * real);
      expect(learnt.costs.get(id)!, id).toBeLessThan(1.25 * real);
    }
    const second = await simulate(suite, learnt, sim);
    const longest = Math.max(...suite.cost.values()) + sim.hiddenMs;
    const t0 = Math.min(...second.batches.map((b) => b.start));
    const layout = JSON.stringify(second.batches.map((b) => [b.worker, b.n, b.start - t0, b.end - t0]));
    for (const [w, idle] of second.idleAtEnd) expect(idle, `${w} idle at the end; batches ${layout}`).toBeLessThanOrEqual(sim.startMs + longest);
    for (const w of ['w1', 'w2']) expect(second.batches.filter((b) => b.worker === w).length, `${w}'s batches: ${layout}`).toBeGreaterThan(1);
  });
});

describe('a warm runner whose files cost a third more on one core than on the other (jest on react-hook-form)', () => {
  test('the tail shrinks to small batches, so the workers still end together on costs learnt on other cores', async () => {
    const suite = importHeavySuite(7);
    // 0.3 s warm start (scaled); the first run on even cores, the next with w1's core 1.35 x slower and
    // w2's 0.9 x: what jest's own file costs did between two runs on a 2-core VM.
    const first = await simulate(suite, NONE, { startMs: 30, withC: true, workers: 2 });
    const learnt = learn(NONE, await readBack(first));
    const sim = { startMs: 30, withC: true, workers: 2, slower: { w1: 1.35, w2: 0.9 } };
    const second = await simulate(suite, learnt, sim);
    const t0 = Math.min(...second.batches.map((b) => b.start));
    const layout = JSON.stringify(second.batches.map((b) => [b.worker, b.n, b.start - t0, b.end - t0]));
    // Longest first, the tail is the shortest files, claimed a few at a time: no worker idles at the end
    // longer than a start and two of the shortest files on the slower core (the cut of 8 start costs,
    // the rule for cold runners, left 230-245 ms here: the last claim took what the other needed).
    const shortest = 1.35 * Math.min(...suite.cost.values());
    for (const [w, idle] of second.idleAtEnd) expect(idle, `${w} idle at the end; batches ${layout}`).toBeLessThanOrEqual(sim.startMs + 2 * shortest);
  });
});

describe('seeded random walks: the promise and the aggregates at every step', () => {
  test('a claim that empties the queue with several tests only happens while every other worker holds a batch', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const rand = rng(seed);
      const n = 5 + Math.floor(rand() * 40);
      const ids = Array.from({ length: n }, (_, i) => `s${seed}-t${i}`);
      // Some known costs (heavy-tailed), some unknown; a start cost of 0-3.5 s; 1-6 workers, some only expected.
      const costs = new Map(ids.filter(() => rand() < 0.6).map((id) => [id, Math.round(50 + 20_000 * rand() ** 3)]));
      const startMs = Math.round(3_500 * rand());
      const live = 1 + Math.floor(rand() * 6);
      const expected = rand() < 0.5 ? live + Math.floor(rand() * 3) : 0;
      const cutStarts = rand() < 0.5 ? 8 : 0;
      runs += 1;
      const keys = runKeys('o/r', 'walk', `${process.pid}-${runs}`);
      const q = new Queue(redis, keys);
      const epoch = `walk${runs}`;
      await q.reset(epoch, 600, runSettings({
        batchSize: 1 + Math.floor(rand() * 60), noWorkerTimeout: 60, batchMs: rand() < 0.3 ? 5_000 : 60_000,
        share: rand() < 0.5 ? 0.9 : 0.5, cutStarts, minStarts: cutStarts ? 1 : 4, slackMs: cutStarts * startMs, startMs,
        guessMs: Math.round(2_000 * rand()), workers: expected,
      }));
      await q.seed(epoch, ids, costs);
      await q.start(epoch);
      const names = Array.from({ length: live }, (_, i) => `w${i + 1}`);
      for (const w of names) await q.register(w);
      const all = Math.max(live, expected);
      const held = new Map<string, { lease: string; tests: string[] }>();
      for (let step = 0; step < 500; step++) {
        const w = names[Math.floor(rand() * names.length)];
        const h = held.get(w);
        if (h) {
          // Report, sometimes with the runner's cost.
          const res = new Map<string, TestResult>(h.tests.map((id) => [id, { outcome: 'passed', durationMs: 5, message: '', timed: true, costMs: rand() < 0.5 ? Math.round(3_000 * rand()) : undefined }]));
          expect((await q.report(epoch, w, h.lease, 'finished', res)).kind).toBe('ok');
          held.delete(w);
          await expectCoherent(keys, `seed ${seed} step ${step}: after a report`);
          continue;
        }
        const c = await q.claim(epoch, w);
        if (c.kind === 'done') break;
        if (c.kind !== 'ok') continue;
        held.set(w, { lease: c.lease, tests: c.tests });
        await expectCoherent(keys, `seed ${seed} step ${step}: after a claim`);
        if (c.tests.length > 1 && (await redis.llen(keys.queue)) === 0) {
          // Every other worker, live or only expected, holds a batch.
          expect(held.size, `seed ${seed} step ${step}: ${w} took the last ${c.tests.length} tests while ${all - held.size} workers held nothing`).toBe(all);
        }
      }
      expect(await redis.hget(keys.meta, 'state'), `seed ${seed}`).toBe('complete');
    }
  });
});
