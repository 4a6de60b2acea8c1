// Unit tests of every Lua script (src/queue/lua) through the typed client (src/queue/queue.ts), against a real
// redis-server: claim order and sizes, report outcomes, lease and epoch fencing, release, reap,
// completion, TTLs, invariant 2 at every step, corrupt data and the Redis command cost of a batch.
import { describe, expect, test } from 'vitest';
import type { Redis } from 'ioredis';
import { type RedisServer, useRedisServer, waitFor } from './helpers/redis-server.js';
import { runSettings } from './helpers/run-settings.js';
import { rng } from '../bench/lib.mjs';
import { Queue, type ClaimReply, type RunSettings } from '../src/queue/queue.js';
import { runKeys, scriptKeys, type RunKeys } from '../src/queue/keys.js';
import type { BatchEnd, HistoryEntry, TestResult } from '../src/types.js';

let srv: RedisServer;
let redis: Redis;
useRedisServer((server) => {
  srv = server;
  redis = server.client();
});

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const TTL = 600;
const DEFAULTS = runSettings();
const FINALS = new Set(['passed', 'failed', 'flaky', 'lost', 'skipped']);

let runCounter = 0;

interface Run {
  q: Queue;
  keys: RunKeys;
  epoch: string;
  ids: string[];
  settings: RunSettings;
}

/** A fresh run key set (unique run id), reset under a new epoch, seeded, started and with workers. */
async function newRun(ids: string[], opts: { settings?: Partial<RunSettings>; start?: boolean; workers?: string[]; costs?: Map<string, number> } = {}): Promise<Run> {
  runCounter += 1;
  const keys = runKeys('o/r', 'tests', `${process.pid}-${runCounter}`);
  const q = new Queue(redis, keys);
  const epoch = `epoch-${runCounter}`;
  const settings = { ...DEFAULTS, ...opts.settings };
  await q.reset(epoch, TTL, settings);
  if (ids.length > 0) await q.seed(epoch, ids, opts.costs);
  if (opts.start !== false) await q.start(epoch);
  for (const w of opts.workers ?? ['w1']) expect(await q.register(w)).toMatchObject({ epoch });
  return { q, keys, epoch, ids, settings };
}

function names(n: number, p = 't'): string[] {
  return Array.from({ length: n }, (_, i) => `${p}${String(i + 1).padStart(2, '0')}`);
}

function res(outcome: TestResult['outcome'], durationMs = 5, message = ''): TestResult {
  return { outcome, durationMs, message };
}

function results(o: Record<string, TestResult['outcome'] | TestResult>): Map<string, TestResult> {
  return new Map(Object.entries(o).map(([id, r]) => [id, typeof r === 'string' ? res(r) : r]));
}

const none = new Map<string, TestResult>();

type Ok = Extract<ClaimReply, { kind: 'ok' }>;

async function claimOk(run: Run, worker: string): Promise<Ok> {
  const c = await run.q.claim(run.epoch, worker);
  if (c.kind !== 'ok') throw new Error(`expected a batch for ${worker}, got ${JSON.stringify(c)}`);
  return c;
}

interface Packed { where: string; runs: number; attempts: number; fails: number; passes: number }

function unpack(v: string): Packed {
  const m = /^(.+)\|(\d+)\|(\d+)\|(\d+)\|(\d+)$/.exec(v);
  if (!m) throw new Error(`bad packed test state ${v}`);
  return { where: m[1], runs: Number(m[2]), attempts: Number(m[3]), fails: Number(m[4]), passes: Number(m[5]) };
}

async function testState(run: Run, id: string): Promise<Packed> {
  const v = await redis.hget(run.keys.tests, id);
  if (v === null) throw new Error(`test ${id} has no state`);
  return unpack(v);
}

async function meta(run: Run): Promise<Record<string, string>> {
  return redis.hgetall(run.keys.meta);
}

async function worker(run: Run, id: string): Promise<{ state: string; lease: string; batches: number; tests: number; busyMs: number; lostBatches: number }> {
  const v = await redis.hget(run.keys.workers, id);
  if (v === null) throw new Error(`worker ${id} unknown`);
  return JSON.parse(v);
}

interface LeaseRec { w: string; s: number; e?: number; i: boolean; t: string[]; st: string }

async function leases(run: Run): Promise<Map<string, LeaseRec>> {
  const all = await redis.hgetall(run.keys.leases);
  const out = new Map<string, LeaseRec>();
  for (const [id, v] of Object.entries(all)) {
    if (id === '_') continue;
    const l = JSON.parse(v);
    out.set(id, { ...l, t: Array.isArray(l.t) ? l.t : [] });
  }
  return out;
}

async function history(run: Run): Promise<HistoryEntry[]> {
  return (await redis.lrange(run.keys.history, 0, -1)).map((s) => JSON.parse(s) as HistoryEntry);
}

async function list(key: string): Promise<string[]> {
  return redis.lrange(key, 0, -1);
}

async function redisNow(): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** Presumes a worker dead: its heartbeat key vanishes, as if it had expired. */
async function kill(run: Run, w: string): Promise<void> {
  await redis.del(run.keys.hbPrefix + w);
}

async function scanKeys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    out.push(...batch);
  } while (cursor !== '0');
  return [...new Set(out)].sort();
}

/** Invariant 6: every key of the run has a TTL (never -1), and none is longer than the run's. */
async function assertAllTtl(run: Run): Promise<string[]> {
  const ks = await scanKeys(run.keys.prefix);
  expect(ks.length).toBeGreaterThan(0);
  for (const k of ks) {
    const pttl = await redis.pttl(k);
    // -2: the key vanished between SCAN and PTTL (an emptied list): fine. -1 is the bug.
    expect(pttl, `TTL of ${k}`).not.toBe(-1);
    if (pttl !== -2) {
      expect(pttl, `TTL of ${k}`).toBeGreaterThan(0);
      expect(pttl, `TTL of ${k}`).toBeLessThanOrEqual(TTL * 1000);
    }
  }
  return ks;
}

/** Everything stored under the run's prefix (without TTLs), to prove that a call changed nothing. */
async function snapshot(prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const k of await scanKeys(prefix)) {
    const t = await redis.type(k);
    if (t === 'hash') out[k] = await redis.hgetall(k);
    else if (t === 'list') out[k] = await redis.lrange(k, 0, -1);
    else if (t === 'string') out[k] = await redis.get(k);
    else out[k] = t;
  }
  return out;
}

interface Places { queued: string[]; requeued: string[]; held: Map<string, string[]>; final: Map<string, string> }

/**
 * Invariant 2: every seeded test is in exactly one place, and the packed state agrees with the lists
 * and the leases: `q` exactly once in the queue, `r` exactly once in the requeue, `h:<lease>` under an
 * active lease that lists it and whose (alive) worker holds that lease, or a final status and in no list.
 */
async function checkPlaces(run: Run, opts: { requireLiveHolder?: boolean } = {}): Promise<Places> {
  const [testsRaw, queue, requeue, ls, workersRaw] = await Promise.all([
    redis.hgetall(run.keys.tests), list(run.keys.queue), list(run.keys.requeue), leases(run), redis.hgetall(run.keys.workers),
  ]);
  expect(Object.keys(testsRaw).sort(), 'tests hash holds exactly the seeded tests').toEqual([...run.ids].sort());
  const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const inQueue = count(queue);
  const inRequeue = count(requeue);
  const seeded = new Set(run.ids);
  for (const x of [...inQueue.keys(), ...inRequeue.keys()]) expect(seeded.has(x), `listed test ${x} was seeded`).toBe(true);
  const places: Places = { queued: [], requeued: [], held: new Map(), final: new Map() };
  for (const id of run.ids) {
    const st = unpack(testsRaw[id]);
    const nq = inQueue.get(id) ?? 0;
    const nr = inRequeue.get(id) ?? 0;
    const where = `${id}: ${testsRaw[id]} (queue ${nq}, requeue ${nr})`;
    if (st.where === 'q') {
      expect([nq, nr], where).toEqual([1, 0]);
      places.queued.push(id);
    } else if (st.where === 'r') {
      expect([nq, nr], where).toEqual([0, 1]);
      places.requeued.push(id);
    } else if (st.where.startsWith('h:')) {
      expect([nq, nr], where).toEqual([0, 0]);
      const leaseId = st.where.slice(2);
      const l = ls.get(leaseId);
      expect(l, `${where}: lease ${leaseId} exists`).toBeDefined();
      expect(l!.st, `${where}: lease ${leaseId} is active`).toBe('active');
      expect(l!.t, `${where}: lease ${leaseId} lists it`).toContain(id);
      const held = places.held.get(leaseId) ?? [];
      held.push(id);
      places.held.set(leaseId, held);
    } else {
      expect(FINALS.has(st.where), `${where}: a known place`).toBe(true);
      expect([nq, nr], where).toEqual([0, 0]);
      places.final.set(id, st.where);
    }
  }
  // An active lease holds every one of its tests (they leave it all at once), and is its worker's lease.
  for (const [leaseId, l] of ls) {
    if (l.st !== 'active') {
      expect(places.held.has(leaseId), `lease ${leaseId} (${l.st}) holds nothing`).toBe(false);
      continue;
    }
    expect([...(places.held.get(leaseId) ?? [])].sort(), `active lease ${leaseId} holds all its tests`).toEqual([...l.t].sort());
    const w = JSON.parse(workersRaw[l.w] ?? 'null');
    expect(w?.lease, `worker ${l.w} holds its active lease ${leaseId}`).toBe(leaseId);
    if (opts.requireLiveHolder !== false) expect(w?.state, `worker ${l.w} of active lease ${leaseId}`).toBe('alive');
  }
  expect(places.queued.length + places.requeued.length + places.final.size +
    [...places.held.values()].reduce((n, xs) => n + xs.length, 0)).toBe(run.ids.length);
  return places;
}

// ---------------------------------------------------------------------------------------------
// claim
// ---------------------------------------------------------------------------------------------

describe('claim', () => {
  test('FIFO in seeded order (across seed calls), up to batchSize from the primary queue, then empty', async () => {
    runCounter += 1;
    const keys = runKeys('o/r', 'tests', `${process.pid}-${runCounter}`);
    const q = new Queue(redis, keys);
    const epoch = `epoch-${runCounter}`;
    const ids = names(10);
    await q.reset(epoch, TTL, { ...DEFAULTS, batchSize: 4 });
    await q.seed(epoch, ids.slice(0, 6));
    await q.seed(epoch, ids.slice(6));
    await q.start(epoch);
    for (const w of ['w1', 'w2', 'w3']) await q.register(w);
    const run: Run = { q, keys, epoch, ids, settings: { ...DEFAULTS, batchSize: 4 } };

    const a = await claimOk(run, 'w1');
    expect(a).toMatchObject({ isolated: false, attempt: 1, tests: ['t01', 't02', 't03', 't04'] });
    const b = await claimOk(run, 'w2');
    expect(b).toMatchObject({ isolated: false, attempt: 1, tests: ['t05', 't06', 't07', 't08'] });
    expect(b.lease).not.toBe(a.lease);
    const c = await claimOk(run, 'w3');
    expect(c.tests).toEqual(['t09', 't10']);
    await q.report(epoch, 'w2', b.lease, 'finished', results({ t05: 'passed', t06: 'passed', t07: 'passed', t08: 'passed' }));
    expect(await q.claim(epoch, 'w2')).toEqual({ kind: 'empty' });
    const p = await checkPlaces(run);
    expect(p.held.get(a.lease)).toEqual(['t01', 't02', 't03', 't04']);
    expect(p.held.get(c.lease)).toEqual(['t09', 't10']);
    expect(p.queued).toEqual([]);
  });

  test('exactly 1 from the requeue whenever it is not empty, even with tests in the primary queue', async () => {
    const run = await newRun(names(8), { settings: { batchSize: 3 }, workers: ['w1', 'w2'] });
    const a = await claimOk(run, 'w1');
    expect(a.tests).toEqual(['t01', 't02', 't03']);
    expect(await run.q.report(run.epoch, 'w1', a.lease, 'split', none)).toEqual({ kind: 'ok', finals: {} });
    expect(await list(run.keys.requeue)).toEqual(['t01', 't02', 't03']);
    expect(await list(run.keys.queue)).toEqual(['t04', 't05', 't06', 't07', 't08']);

    for (const [w, id] of [['w2', 't01'], ['w1', 't02'], ['w2', 't03']] as const) {
      const c = await claimOk(run, w);
      expect(c).toMatchObject({ isolated: true, attempt: 2, tests: [id] });
      await checkPlaces(run);
      await run.q.report(run.epoch, w, c.lease, 'finished', results({ [id]: 'passed' }));
    }
    // Requeue drained: back to full batches from the primary queue.
    expect(await claimOk(run, 'w1')).toMatchObject({ isolated: false, attempt: 1, tests: ['t04', 't05', 't06'] });
  });

  test("'wait' while seeding, before start", async () => {
    const run = await newRun([], { start: false });
    expect(await run.q.claim(run.epoch, 'w1')).toEqual({ kind: 'wait' });
    await run.q.seed(run.epoch, ['a', 'b']);
    expect(await run.q.claim(run.epoch, 'w1')).toEqual({ kind: 'wait' });
    expect(await redis.hgetall(run.keys.tests)).toEqual({ a: 'q|0|0|0|0', b: 'q|0|0|0|0' });
    await run.q.start(run.epoch);
    expect(await claimOk({ ...run, ids: ['a', 'b'] }, 'w1')).toMatchObject({ tests: ['a', 'b'] });
    // Seeding after the start is refused.
    await expect(run.q.seed(run.epoch, ['c'])).rejects.toThrow(/seeding after the run started/);
  });

  test("'empty' when nothing is claimable, 'done' once complete or aborted", async () => {
    const run = await newRun(['a', 'b'], { workers: ['w1', 'w2'] });
    const c = await claimOk(run, 'w1');
    expect(await run.q.claim(run.epoch, 'w2')).toEqual({ kind: 'empty' });
    expect(await run.q.claim(run.epoch, 'w2')).toEqual({ kind: 'empty' });
    await run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ a: 'passed', b: 'skipped' }));
    expect(await run.q.claim(run.epoch, 'w2')).toEqual({ kind: 'done', state: 'complete', reason: '' });

    const run2 = await newRun(['a', 'b']);
    expect(await run2.q.abort(run2.epoch, 'cancelled by the user')).toBe('aborted');
    expect(await run2.q.claim(run2.epoch, 'w1')).toEqual({ kind: 'done', state: 'aborted', reason: 'cancelled by the user' });
    expect(await list(run2.keys.queue)).toEqual(['a', 'b']);
  });

  test("'stale' for a wrong epoch, an unregistered worker or a run that was never reset", async () => {
    const run = await newRun(['a', 'b']);
    expect(await run.q.claim('other-epoch', 'w1')).toEqual({ kind: 'stale' });
    expect(await run.q.claim(run.epoch, 'ghost')).toEqual({ kind: 'stale' });
    expect(await redis.exists(run.keys.hbPrefix + 'ghost')).toBe(0);
    expect(await list(run.keys.queue)).toEqual(['a', 'b']);
    const nowhere = new Queue(redis, runKeys('o/r', 'tests', `${process.pid}-never-reset`));
    expect(await nowhere.claim('e', 'w1')).toEqual({ kind: 'stale' });
    expect(await nowhere.register('w1')).toBeNull();
    await checkPlaces(run);
  });

  test('claiming refreshes the heartbeat and records the lease and the worker', async () => {
    const run = await newRun(['a', 'b']);
    await kill(run, 'w1');
    const c = await claimOk(run, 'w1');
    const hbTtl = await redis.pttl(run.keys.hbPrefix + 'w1');
    expect(hbTtl).toBeGreaterThan(0);
    expect(hbTtl).toBeLessThanOrEqual(30_000);
    const l = (await leases(run)).get(c.lease)!;
    expect(l).toMatchObject({ w: 'w1', i: false, t: ['a', 'b'], st: 'active' });
    expect(await worker(run, 'w1')).toMatchObject({ state: 'alive', lease: c.lease });
    expect(await testState(run, 'a')).toEqual({ where: `h:${c.lease}`, runs: 1, attempts: 0, fails: 0, passes: 0 });
  });
});

// ---------------------------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------------------------

describe('report', () => {
  test('passed, skipped and failed results are final; the first final result wins', async () => {
    const run = await newRun(['a', 'b', 'c', 'd'], { settings: { batchSize: 4 } });
    const c = await claimOk(run, 'w1');
    const rep = await run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ a: 'passed', b: 'skipped', c: 'failed', d: 'passed' }));
    expect(rep).toEqual({ kind: 'ok', finals: { a: 'passed', b: 'skipped', c: 'failed', d: 'passed' } });
    expect(await testState(run, 'c')).toEqual({ where: 'failed', runs: 1, attempts: 0, fails: 1, passes: 0 });
    const before = await snapshot(run.keys.tests);
    // The same lease again (a retried request): the first answer again, and nothing changes.
    const again = await run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ a: 'failed', c: 'passed' }));
    expect(again).toEqual(rep);
    expect(await snapshot(run.keys.tests)).toEqual(before);
    expect((await history(run)).length).toBe(4);
    expect(await meta(run)).toMatchObject({ done: '4', failed: '1', state: 'complete' });
    await checkPlaces(run);
  });

  test('an unknown lease (Redis lost its last writes) is fenced as unknown; a report by another worker than the holder is fenced', async () => {
    const run = await newRun(['a'], { workers: ['w1', 'w2'] });
    const c = await claimOk(run, 'w1');
    const before = await snapshot(run.keys.prefix);
    expect(await run.q.report(run.epoch, 'w1', '999', 'finished', results({ a: 'passed' }))).toEqual({ kind: 'unknown', finals: {} });
    expect(await snapshot(run.keys.prefix)).toEqual(before);
    expect(await run.q.report(run.epoch, 'w2', c.lease, 'finished', results({ a: 'passed' }))).toEqual({ kind: 'fenced', finals: {} });
    expect(await testState(run, 'a')).toMatchObject({ where: `h:${c.lease}` });
    await checkPlaces(run);
  });

  test('split: a batch of several without results sends each test to the requeue, no attempt counted', async () => {
    const run = await newRun(['a', 'b', 'c', 'd'], { settings: { batchSize: 3, maxAttempts: 1 } });
    const c = await claimOk(run, 'w1');
    expect(await run.q.report(run.epoch, 'w1', c.lease, 'split', none)).toEqual({ kind: 'ok', finals: {} });
    expect(await list(run.keys.requeue)).toEqual(['a', 'b', 'c']);
    for (const id of ['a', 'b', 'c']) expect(await testState(run, id)).toEqual({ where: 'r', runs: 1, attempts: 0, fails: 0, passes: 0 });
    const h = await history(run);
    expect(h.map((e) => [e.t, e.o, e.i, e.b])).toEqual([['a', 'split', false, c.lease], ['b', 'split', false, c.lease], ['c', 'split', false, c.lease]]);
    await checkPlaces(run);
    // maxAttempts 1 and the split did not count: each is still run, alone.
    const c2 = await claimOk(run, 'w1');
    expect(c2).toMatchObject({ isolated: true, attempt: 2, tests: ['a'] });
  });

  test('split with some results: the tests with a result keep it, the others are split', async () => {
    const run = await newRun(['a', 'b', 'c']);
    const c = await claimOk(run, 'w1');
    const rep = await run.q.report(run.epoch, 'w1', c.lease, 'split', results({ b: 'passed' }));
    expect(rep.finals).toEqual({ b: 'passed' });
    expect(await list(run.keys.requeue)).toEqual(['a', 'c']);
    expect((await history(run)).map((e) => [e.t, e.o])).toEqual([['a', 'split'], ['b', 'passed'], ['c', 'split']]);
    await checkPlaces(run);
  });

  test('split of a batch of one is that test running without a result: attempt counted, outcome lost', async () => {
    const run = await newRun(['a'], { settings: { maxAttempts: 2 } });
    const c = await claimOk(run, 'w1');
    await run.q.report(run.epoch, 'w1', c.lease, 'split', none);
    expect(await testState(run, 'a')).toEqual({ where: 'r', runs: 1, attempts: 1, fails: 0, passes: 0 });
    const c2 = await claimOk(run, 'w1');
    expect(await run.q.report(run.epoch, 'w1', c2.lease, 'split', none)).toEqual({ kind: 'ok', finals: { a: 'lost' } });
    expect((await history(run)).map((e) => e.o)).toEqual(['lost', 'lost']);
  });

  test.each(['killed', 'timed-out', 'finished'] as const)("results for some tests only, ending '%s': the others go to the requeue, attempts counted", async (ending: BatchEnd) => {
    const run = await newRun(['a', 'b', 'c']);
    const c = await claimOk(run, 'w1');
    const rep = await run.q.report(run.epoch, 'w1', c.lease, ending, results({ b: 'failed' }));
    expect(rep).toEqual({ kind: 'ok', finals: { b: 'failed' } });
    expect(await list(run.keys.requeue)).toEqual(['a', 'c']);
    expect(await testState(run, 'a')).toEqual({ where: 'r', runs: 1, attempts: 1, fails: 0, passes: 0 });
    expect(await testState(run, 'c')).toEqual({ where: 'r', runs: 1, attempts: 1, fails: 0, passes: 0 });
    // A finished batch with a test missing from the results lost that test's result: its run is lost.
    const outcome = ending === 'timed-out' ? 'timeout' : 'lost';
    expect((await history(run)).map((e) => [e.t, e.o])).toEqual([['a', outcome], ['b', 'failed'], ['c', outcome]]);
    await checkPlaces(run);
  });

  test('attempts: a test claimed alone and reported without a result is lost at maxAttempts', async () => {
    const run = await newRun(['a', 'b'], { settings: { maxAttempts: 3, batchSize: 1 } });
    const endings: BatchEnd[] = ['killed', 'timed-out', 'finished'];
    for (let i = 0; i < 3; i++) {
      const c = await claimOk(run, 'w1');
      expect(c).toMatchObject({ tests: ['a'], isolated: i > 0, attempt: i + 1 });
      const rep = await run.q.report(run.epoch, 'w1', c.lease, endings[i], none);
      expect(rep.finals).toEqual(i === 2 ? { a: 'lost' } : {});
      expect(await testState(run, 'a')).toEqual({ where: i === 2 ? 'lost' : 'r', runs: i + 1, attempts: i + 1, fails: 0, passes: 0 });
      await checkPlaces(run);
    }
    expect((await history(run)).map((e) => [e.o, e.i])).toEqual([['lost', false], ['timeout', true], ['lost', true]]);
    expect(await claimOk(run, 'w1')).toMatchObject({ tests: ['b'], isolated: false });
  });

  test('a lost run then a pass is passed, not flaky', async () => {
    const run = await newRun(['a'], { settings: { retries: 1 } });
    const c = await claimOk(run, 'w1');
    await run.q.report(run.epoch, 'w1', c.lease, 'killed', none);
    const c2 = await claimOk(run, 'w1');
    expect((await run.q.report(run.epoch, 'w1', c2.lease, 'finished', results({ a: 'passed' }))).finals).toEqual({ a: 'passed' });
  });

  test('retries: failed then passed is flaky; failing beyond the retries is failed', async () => {
    const run = await newRun(['a', 'b', 'c'], { settings: { retries: 2 } });
    const c = await claimOk(run, 'w1');
    expect((await run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ a: 'failed', b: 'failed', c: 'failed' }))).finals).toEqual({});
    expect(await list(run.keys.requeue)).toEqual(['a', 'b', 'c']);
    expect(await testState(run, 'a')).toEqual({ where: 'r', runs: 1, attempts: 0, fails: 1, passes: 0 });

    const plan: [string, TestResult['outcome'], Record<string, string>][] = [
      ['a', 'passed', { a: 'flaky' }], // fail, pass
      ['b', 'failed', {}], // fail, fail, (retry 2 left)
      ['c', 'failed', {}],
      ['b', 'failed', { b: 'failed' }], // fail x3 > retries 2
      ['c', 'passed', { c: 'flaky' }], // fail, fail, pass
    ];
    for (const [id, outcome, finals] of plan) {
      const k = await claimOk(run, 'w1');
      expect(k).toMatchObject({ tests: [id], isolated: true });
      expect((await run.q.report(run.epoch, 'w1', k.lease, 'finished', results({ [id]: outcome }))).finals).toEqual(finals);
      await checkPlaces(run);
    }
    expect(await testState(run, 'b')).toEqual({ where: 'failed', runs: 3, attempts: 0, fails: 3, passes: 0 });
    expect(await testState(run, 'c')).toEqual({ where: 'flaky', runs: 3, attempts: 0, fails: 2, passes: 1 });
    // A flaky test is not a failure.
    expect(await meta(run)).toMatchObject({ state: 'complete', done: '3', failed: '1' });
  });

  test('history entries record every run in order (worker, lease, isolated, outcome, duration, message, file, line)', async () => {
    const run = await newRun(['a', 'b', 'c'], { settings: { retries: 1 }, workers: ['w1', 'w2'] });
    const t0 = await redisNow();
    const c = await claimOk(run, 'w1');
    await run.q.report(run.epoch, 'w1', c.lease, 'timed-out', new Map<string, TestResult>([
      ['a', { outcome: 'failed', durationMs: 1234.6, message: 'expected 1 to be 2', file: 'src/a.ts', line: 7 }],
      ['b', { outcome: 'passed', durationMs: 10, message: '' }],
    ]));
    const c2 = await claimOk(run, 'w2');
    expect(c2.tests).toEqual(['a']);
    await run.q.report(run.epoch, 'w2', c2.lease, 'finished', results({ a: res('passed', 99, 'ok now') }));
    const c3 = await claimOk(run, 'w1');
    expect(c3.tests).toEqual(['c']);
    await run.q.report(run.epoch, 'w1', c3.lease, 'finished', results({ c: 'skipped' }));
    const t1 = await redisNow();

    const h = await history(run);
    expect(h.map(({ t, w, b, i, o, d, m }) => ({ t, w, b, i, o, d, m }))).toEqual([
      { t: 'a', w: 'w1', b: c.lease, i: false, o: 'failed', d: 1235, m: 'expected 1 to be 2' },
      { t: 'b', w: 'w1', b: c.lease, i: false, o: 'passed', d: 10, m: '' },
      { t: 'c', w: 'w1', b: c.lease, i: false, o: 'timeout', d: 0, m: '' },
      { t: 'a', w: 'w2', b: c2.lease, i: true, o: 'passed', d: 99, m: 'ok now' },
      { t: 'c', w: 'w1', b: c3.lease, i: true, o: 'skipped', d: 5, m: '' },
    ]);
    expect(h[0]).toMatchObject({ f: 'src/a.ts', l: 7 });
    const ls = await leases(run);
    for (const e of h) {
      expect(e.s).toBe(ls.get(e.b)!.s);
      expect(e.s).toBeGreaterThanOrEqual(t0);
      expect(e.e).toBeGreaterThanOrEqual(e.s);
      expect(e.e).toBeLessThanOrEqual(t1);
    }
    expect((await run.q.readRun('tests', 'r', run.ids)).tests).toEqual([
      { id: 'a', status: 'flaky' }, { id: 'b', status: 'passed' }, { id: 'c', status: 'skipped' },
    ]);
  });

  test('worker stats: batches, tests and busyMs (Redis time from claim to report) add up', async () => {
    const run = await newRun(names(5), { settings: { batchSize: 3 }, workers: ['w1', 'w2'] });
    const c = await claimOk(run, 'w1');
    const start = (await leases(run)).get(c.lease)!.s;
    // Let Redis time move on, so busyMs is not 0 (a condition, not a fixed sleep).
    await waitFor('Redis time to advance', async () => (await redisNow()) >= start + 20, 5000, 5);
    await run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ t01: 'passed', t02: 'passed', t03: 'passed' }));
    const c2 = await claimOk(run, 'w1');
    await run.q.report(run.epoch, 'w1', c2.lease, 'finished', results({ t04: 'passed', t05: 'passed' }));
    const ls = await leases(run);
    const busy = [c.lease, c2.lease].reduce((n, id) => n + (ls.get(id)!.e! - ls.get(id)!.s), 0);
    const w1 = await worker(run, 'w1');
    expect(w1).toEqual({ state: 'alive', lease: '', batches: 2, tests: 5, busyMs: busy, lostBatches: 0, inst: run.q.instance });
    expect(w1.busyMs).toBeGreaterThanOrEqual(20);
    expect(await worker(run, 'w2')).toEqual({ state: 'alive', lease: '', batches: 0, tests: 0, busyMs: 0, lostBatches: 0, inst: run.q.instance });
    expect(ls.get(c.lease)!.st).toBe('done');
  });
});

// ---------------------------------------------------------------------------------------------
// lease fencing (invariant 3)
// ---------------------------------------------------------------------------------------------

describe('lease fencing', () => {
  test('a worker whose heartbeat expires is reaped: lease reclaimed, tests requeued, worker dead', async () => {
    const run = await newRun(['a', 'b', 'c'], { settings: { heartbeatTtl: 1, batchSize: 2 }, workers: ['w1'] });
    const c = await claimOk(run, 'w1');
    // Nothing heartbeats: wait for the heartbeat key to expire (heartbeatTtl 1 s).
    await waitFor('w1 heartbeat to expire', async () => (await redis.exists(run.keys.hbPrefix + 'w1')) === 0, 5000);
    const p = await run.q.reap(run.epoch, 1000);
    expect(p).toMatchObject({ reaped: ['w1'], total: 3, done: 0, queued: 1, requeued: 2, running: 0, live: 0 });
    expect((await leases(run)).get(c.lease)).toMatchObject({ st: 'reclaimed' });
    expect(await worker(run, 'w1')).toMatchObject({ state: 'dead', lease: '', lostBatches: 1 });
    expect(await list(run.keys.requeue)).toEqual(['a', 'b']);
    expect(await testState(run, 'a')).toEqual({ where: 'r', runs: 1, attempts: 1, fails: 0, passes: 0 });
    expect((await history(run)).map((e) => [e.t, e.o, e.m])).toEqual([
      ['a', 'lost', 'worker w1 stopped heartbeating'], ['b', 'lost', 'worker w1 stopped heartbeating'],
    ]);
    await checkPlaces(run);
    // A second reap reaps nobody.
    expect(await run.q.reap(run.epoch, 1000)).toMatchObject({ reaped: [], requeued: 2 });
  });

  test('a reaped lease at maxAttempts makes its tests lost (and can complete the run)', async () => {
    const run = await newRun(['a', 'b'], { settings: { maxAttempts: 1, batchSize: 2 } });
    await claimOk(run, 'w1');
    await kill(run, 'w1');
    const p = await run.q.reap(run.epoch, 1000);
    expect(p).toMatchObject({ reaped: ['w1'], state: 'complete', done: 2, requeued: 0 });
    expect(await redis.hgetall(run.keys.tests)).toEqual({ a: 'lost|1|1|0|0', b: 'lost|1|1|0|0' });
    await checkPlaces(run);
  });

  test('a reclaimed lease cannot heartbeat, release or requeue; its late results land only for requeued tests; its worker rejoins', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const run = await newRun(ids, { settings: { batchSize: 5, retries: 1, maxAttempts: 3 }, workers: ['w1', 'w2'] });
    const l1 = await claimOk(run, 'w1');
    expect(l1.tests).toEqual(['a', 'b', 'c', 'd', 'e']);
    await kill(run, 'w1');
    expect((await run.q.reap(run.epoch, 1000))!.reaped).toEqual(['w1']);
    expect(await list(run.keys.requeue)).toEqual(['a', 'b', 'c', 'd', 'e']);
    await checkPlaces(run);

    // Heartbeat refused, and it does not bring the heartbeat key back.
    expect(await run.q.heartbeat(run.epoch, 'w1')).toEqual({ kind: 'reclaimed', state: 'running', reason: '', controllerAlive: true });
    expect(await redis.exists(run.keys.hbPrefix + 'w1')).toBe(0);
    // Release hands back nothing and leaves the worker dead.
    const beforeRelease = await snapshot(run.keys.prefix);
    expect(await run.q.release(run.epoch, 'w1', l1.lease, 'cancelled')).toBe(0);
    expect(await snapshot(run.keys.prefix)).toEqual(beforeRelease);

    // Meanwhile w2 runs 'a' to the end and holds 'b'.
    const l2 = await claimOk(run, 'w2');
    expect(l2).toMatchObject({ tests: ['a'], isolated: true, attempt: 2 });
    await run.q.report(run.epoch, 'w2', l2.lease, 'finished', results({ a: 'passed' }));
    const l3 = await claimOk(run, 'w2');
    expect(l3.tests).toEqual(['b']);
    const historyBefore = (await history(run)).length;

    // The late report of the reclaimed lease: a final (a) and a held (b) test are untouched; c, d, e
    // wait in the requeue: c passes (final), d fails with a retry left (back to the requeue), e has no
    // result (a fenced lease requeues nothing, so e stays where it is).
    const late = await run.q.report(run.epoch, 'w1', l1.lease, 'killed', results({ a: 'failed', b: 'failed', c: 'passed', d: 'failed' }));
    expect(late).toEqual({ kind: 'fenced', finals: { c: 'passed' } });
    expect(await testState(run, 'a')).toEqual({ where: 'passed', runs: 2, attempts: 1, fails: 0, passes: 1 });
    expect(await testState(run, 'b')).toEqual({ where: `h:${l3.lease}`, runs: 2, attempts: 1, fails: 0, passes: 0 });
    expect(await testState(run, 'c')).toEqual({ where: 'passed', runs: 1, attempts: 1, fails: 0, passes: 1 });
    expect(await testState(run, 'd')).toEqual({ where: 'r', runs: 1, attempts: 1, fails: 1, passes: 0 });
    expect(await testState(run, 'e')).toEqual({ where: 'r', runs: 1, attempts: 1, fails: 0, passes: 0 });
    expect(await list(run.keys.requeue)).toEqual(['e', 'd']);
    const h = (await history(run)).slice(historyBefore);
    expect(h.map((x) => [x.t, x.o, x.w, x.b])).toEqual([['c', 'passed', 'w1', l1.lease], ['d', 'failed', 'w1', l1.lease]]);
    expect(await meta(run)).toMatchObject({ done: '2' });
    await checkPlaces(run);

    // A late report for tests that are all final or held changes nothing.
    const snap = await snapshot(run.keys.prefix);
    expect(await run.q.report(run.epoch, 'w1', l1.lease, 'finished', results({ a: 'passed', b: 'passed', c: 'failed' }))).toEqual({ kind: 'fenced', finals: {} });
    expect(await snapshot(run.keys.prefix)).toEqual(snap);

    // The reclaimed worker rejoins by claiming: a new lease, alive, heartbeating again.
    const l4 = await claimOk(run, 'w1');
    expect(l4.lease).not.toBe(l1.lease);
    expect(l4).toMatchObject({ tests: ['e'], isolated: true });
    expect(await worker(run, 'w1')).toMatchObject({ state: 'alive', lease: l4.lease, lostBatches: 1 });
    expect(await run.q.heartbeat(run.epoch, 'w1')).toEqual({ kind: 'ok', state: 'running', reason: '', controllerAlive: true });
    expect(await redis.exists(run.keys.hbPrefix + 'w1')).toBe(1);
    // The old lease stays fenced: its late result for e (now held under the new lease) lands nowhere.
    expect((await leases(run)).get(l1.lease)!.st).toBe('reclaimed');
    expect(await run.q.report(run.epoch, 'w1', l1.lease, 'finished', results({ e: 'passed' }))).toEqual({ kind: 'fenced', finals: {} });
    expect(await testState(run, 'e')).toMatchObject({ where: `h:${l4.lease}` });
    await checkPlaces(run);
    // Its normal report of the new lease is accepted.
    expect(await run.q.report(run.epoch, 'w1', l4.lease, 'finished', results({ e: 'passed' }))).toEqual({ kind: 'ok', finals: { e: 'passed' } });
    expect(await worker(run, 'w1')).toMatchObject({ state: 'alive', lease: '', batches: 1, tests: 1, lostBatches: 1 });
    await checkPlaces(run);
  });

  test('a reclaimed worker can also rejoin by registering, with no lease', async () => {
    const run = await newRun(['a', 'b'], { settings: { batchSize: 1 } });
    await claimOk(run, 'w1');
    await kill(run, 'w1');
    await run.q.reap(run.epoch, 1000);
    expect(await run.q.register('w1')).toMatchObject({ epoch: run.epoch, state: 'running', heartbeatTtl: 30 });
    expect(await worker(run, 'w1')).toMatchObject({ state: 'alive', lease: '' });
    expect(await run.q.heartbeat(run.epoch, 'w1')).toMatchObject({ kind: 'ok' });
    expect(await claimOk(run, 'w1')).toMatchObject({ tests: ['a'], isolated: true });
  });

  test('a late result of a reclaimed lease that fails with no retry left is final failed', async () => {
    const run = await newRun(['a'], { settings: { retries: 0 } });
    const l1 = await claimOk(run, 'w1');
    await kill(run, 'w1');
    await run.q.reap(run.epoch, 1000);
    expect(await run.q.report(run.epoch, 'w1', l1.lease, 'finished', results({ a: 'failed' }))).toEqual({ kind: 'fenced', finals: { a: 'failed' } });
    expect(await list(run.keys.requeue)).toEqual([]);
    expect(await meta(run)).toMatchObject({ state: 'complete', done: '1', failed: '1' });
    await checkPlaces(run);
  });

  test('a claim sent again while its lease is active gets the same batch, never a second lease', async () => {
    // ioredis resends a claim whose reply was lost on a reconnect: a second lease would orphan the first.
    const run = await newRun(['a', 'b', 'c', 'd'], { settings: { batchSize: 2 } });
    const first = await claimOk(run, 'w1');
    const again = await claimOk(run, 'w1');
    expect(again).toEqual(first);
    await kill(run, 'w1');
    await run.q.reap(run.epoch, 1000);
    for (const id of first.tests) expect((await testState(run, id)).where, id).toBe('r');
    expect((await checkPlaces(run)).held.size).toBe(0);
  });

  test('a worker that registers again while holding a lease loses that batch (restarted process)', async () => {
    const run = await newRun(['a', 'b', 'c'], { settings: { batchSize: 2 } });
    const first = await claimOk(run, 'w1');
    await run.q.register('w1');
    for (const id of first.tests) expect((await testState(run, id)).where, id).toBe('r');
    expect((await leases(run)).get(first.lease)).toMatchObject({ st: 'released' });
    expect(await worker(run, 'w1')).toMatchObject({ state: 'alive', lease: '', lostBatches: 1 });
    expect((await checkPlaces(run)).held.size).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// release
// ---------------------------------------------------------------------------------------------

describe('release', () => {
  test('cancelled: held tests go back to the requeue at once (attempt counted, outcome lost)', async () => {
    const run = await newRun(['a', 'b', 'c', 'd'], { settings: { batchSize: 3, maxAttempts: 2 }, workers: ['w1', 'w2'] });
    const c = await claimOk(run, 'w1');
    expect(await run.q.release(run.epoch, 'w1', c.lease, 'cancelled')).toBe(3);
    expect(await list(run.keys.requeue)).toEqual(['a', 'b', 'c']);
    expect(await testState(run, 'a')).toEqual({ where: 'r', runs: 1, attempts: 1, fails: 0, passes: 0 });
    expect((await history(run)).map((e) => [e.t, e.o, e.w, e.m])).toEqual([
      ['a', 'lost', 'w1', 'worker cancelled'], ['b', 'lost', 'w1', 'worker cancelled'], ['c', 'lost', 'w1', 'worker cancelled'],
    ]);
    expect(await worker(run, 'w1')).toMatchObject({ state: 'cancelled', lease: '', lostBatches: 1, batches: 0 });
    expect(await redis.exists(run.keys.hbPrefix + 'w1')).toBe(0);
    expect((await leases(run)).get(c.lease)).toMatchObject({ st: 'released' });
    await checkPlaces(run);
    // The released lease is fenced: a report afterwards lands nothing and requeues nothing.
    expect(await run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ a: 'passed' }))).toEqual({ kind: 'fenced', finals: {} });
    expect(await list(run.keys.requeue)).toEqual(['a', 'b', 'c']);
    // A cancelled worker is not live; the reap does not count it as dead either.
    expect(await run.q.reap(run.epoch, 1000)).toMatchObject({ live: 1, reaped: [], requeued: 3 });

    // Released again at maxAttempts: lost.
    const c2 = await claimOk(run, 'w2');
    expect(c2.tests).toEqual(['a']);
    expect(await run.q.release(run.epoch, 'w2', c2.lease, 'cancelled')).toBe(0);
    expect(await testState(run, 'a')).toEqual({ where: 'lost', runs: 2, attempts: 2, fails: 0, passes: 0 });
    await checkPlaces(run);
  });

  test("a release that does not name the held lease (signal while the claim was in flight) still hands it back", async () => {
    const run = await newRun(['a', 'b', 'c'], { settings: { batchSize: 2 } });
    // The worker's claim is sent, the signal comes before its reply: it releases with no lease.
    const [c, n] = await Promise.all([run.q.claim(run.epoch, 'w1'), run.q.release(run.epoch, 'w1', '', 'cancelled')]);
    expect(c).toMatchObject({ kind: 'ok', tests: ['a', 'b'] });
    expect(n).toBe(2);
    expect(await list(run.keys.requeue)).toEqual(['a', 'b']);
    expect(await worker(run, 'w1')).toMatchObject({ state: 'cancelled', lease: '', lostBatches: 1 });
    await checkPlaces(run);
  });

  test('a rejoined worker that releases naming its old, reclaimed lease hands back the lease it holds', async () => {
    const run = await newRun(['a', 'b', 'c'], { settings: { batchSize: 1 } });
    const old = await claimOk(run, 'w1');
    await kill(run, 'w1');
    await run.q.reap(run.epoch, 1000);
    const cur = await claimOk(run, 'w1');
    expect(cur.tests).toEqual(['a']);
    expect(await run.q.release(run.epoch, 'w1', old.lease, 'cancelled')).toBe(1);
    expect((await leases(run)).get(old.lease)!.st).toBe('reclaimed');
    expect((await leases(run)).get(cur.lease)!.st).toBe('released');
    expect(await list(run.keys.requeue)).toEqual(['a']);
    await checkPlaces(run);
  });

  test('finished with no lease: the worker leaves, nothing moves', async () => {
    const run = await newRun(['a']);
    const c = await claimOk(run, 'w1');
    await run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ a: 'passed' }));
    expect(await run.q.release(run.epoch, 'w1', '', 'finished')).toBe(0);
    expect(await worker(run, 'w1')).toMatchObject({ state: 'finished', lease: '', batches: 1, tests: 1 });
    expect(await redis.exists(run.keys.hbPrefix + 'w1')).toBe(0);
    expect(await run.q.reap(run.epoch, 1000)).toMatchObject({ live: 0, reaped: [], state: 'complete' });
  });

  test("a worker cannot release another worker's lease", async () => {
    const run = await newRun(['a', 'b'], { workers: ['w1', 'w2'] });
    const c = await claimOk(run, 'w1');
    expect(await run.q.release(run.epoch, 'w2', c.lease, 'cancelled')).toBe(0);
    expect(await worker(run, 'w2')).toMatchObject({ state: 'cancelled' });
    expect((await leases(run)).get(c.lease)!.st).toBe('active');
    await checkPlaces(run);
  });
});

// ---------------------------------------------------------------------------------------------
// reap, completion, abort
// ---------------------------------------------------------------------------------------------

describe('reap and completion', () => {
  test('reap reports progress: total, done, queued, requeued, running, live', async () => {
    const run = await newRun(names(9), { settings: { batchSize: 2, retries: 1 }, workers: ['w1', 'w2', 'w3'] });
    expect(await run.q.reap(run.epoch, 1000)).toMatchObject({
      state: 'running', reason: '', total: 9, done: 0, queued: 9, requeued: 0, running: 0, live: 3, reaped: [],
    });
    await claimOk(run, 'w1');
    const c2 = await claimOk(run, 'w2');
    await run.q.report(run.epoch, 'w2', c2.lease, 'finished', results({ t03: 'passed', t04: 'failed' }));
    const before = await redisNow();
    const p = await run.q.reap(run.epoch, 1500);
    expect(p).toMatchObject({ state: 'running', total: 9, done: 1, queued: 5, requeued: 1, running: 1, live: 3, reaped: [] });
    expect(p!.nowMs).toBeGreaterThanOrEqual(before);
    // The controller's heartbeat key is refreshed with the given TTL.
    const pttl = await redis.pttl(run.keys.controller);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1500);

    await kill(run, 'w3');
    expect(await run.q.reap(run.epoch, 1000)).toMatchObject({ running: 1, live: 2, reaped: ['w3'] });
    await kill(run, 'w1');
    expect(await run.q.reap(run.epoch, 1000)).toMatchObject({ done: 1, queued: 5, requeued: 3, running: 0, live: 1, reaped: ['w1'] });
    await checkPlaces(run, { requireLiveHolder: true });
  });

  test('reap says when the first live heartbeat key expires (so the controller ticks right after it)', async () => {
    const run = await newRun(names(2), { workers: ['w1', 'w2'] });
    await redis.pexpire(run.keys.hbPrefix + 'w1', 20_000);
    await redis.pexpire(run.keys.hbPrefix + 'w2', 7_000);
    const p = await run.q.reap(run.epoch, 1000);
    // (Lower bounds leave seconds for a slow machine between the PEXPIRE and the reap.)
    expect(p!.nextExpiryMs).toBeGreaterThan(3_000);
    expect(p!.nextExpiryMs).toBeLessThanOrEqual(7_000);
    // A dead worker's key is gone: it is reaped, and the next expiry is the other one's.
    await kill(run, 'w2');
    const q = await run.q.reap(run.epoch, 1000);
    expect(q).toMatchObject({ reaped: ['w2'], live: 1 });
    expect(q!.nextExpiryMs).toBeGreaterThan(10_000);
    expect(q!.nextExpiryMs).toBeLessThanOrEqual(20_000);
    // No live worker: -1.
    await kill(run, 'w1');
    expect(await run.q.reap(run.epoch, 1000)).toMatchObject({ live: 0, nextExpiryMs: -1 });
  });

  test("state 'complete' exactly when the last test becomes final, with completedAt", async () => {
    const run = await newRun(['a', 'b', 'c'], { settings: { batchSize: 2, retries: 1 } });
    const c = await claimOk(run, 'w1');
    await run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ a: 'passed', b: 'failed' }));
    expect(await meta(run)).toMatchObject({ state: 'running', done: '1' });
    const c2 = await claimOk(run, 'w1');
    expect(c2.tests).toEqual(['b']);
    await run.q.report(run.epoch, 'w1', c2.lease, 'finished', results({ b: 'passed' }));
    expect((await meta(run)).state).toBe('running');
    expect((await meta(run)).completedAt).toBeUndefined();
    const c3 = await claimOk(run, 'w1');
    const t0 = await redisNow();
    expect((await run.q.report(run.epoch, 'w1', c3.lease, 'finished', results({ c: 'passed' }))).finals).toEqual({ c: 'passed' });
    const t1 = await redisNow();
    const m = await meta(run);
    expect(m).toMatchObject({ state: 'complete', done: '3', total: '3', reason: '' });
    expect(Number(m.completedAt)).toBeGreaterThanOrEqual(t0);
    expect(Number(m.completedAt)).toBeLessThanOrEqual(t1);
    expect(Number(m.completedAt)).toBeGreaterThanOrEqual(Number(m.seededAt));
    expect(await run.q.heartbeat(run.epoch, 'w1')).toEqual({ kind: 'ok', state: 'complete', reason: '', controllerAlive: false });
    const d = await run.q.readRun('tests', 'r', run.ids);
    expect(d).toMatchObject({ state: 'complete', completedAtMs: Number(m.completedAt), seededAtMs: Number(m.seededAt) });
  });

  test('a run with 0 tests completes at start', async () => {
    const run = await newRun([], { start: false });
    const t = await run.q.start(run.epoch);
    const m = await meta(run);
    expect(m).toMatchObject({ state: 'complete', total: '0', done: '0', seededAt: String(t), completedAt: String(t) });
    expect(await run.q.claim(run.epoch, 'w1')).toEqual({ kind: 'done', state: 'complete', reason: '' });
    expect(await run.q.reap(run.epoch, 1000)).toMatchObject({ state: 'complete', total: 0, done: 0 });
    await assertAllTtl(run);
  });

  test('max-failures aborts the run with a reason', async () => {
    const run = await newRun(names(6), { settings: { batchSize: 2, maxFailures: 2 } });
    const c = await claimOk(run, 'w1');
    await run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ t01: 'failed', t02: 'passed' }));
    expect((await meta(run)).state).toBe('running');
    const c2 = await claimOk(run, 'w1');
    await run.q.report(run.epoch, 'w1', c2.lease, 'finished', results({ t03: 'passed', t04: 'failed' }));
    const m = await meta(run);
    expect(m).toMatchObject({ state: 'aborted', reason: 'max-failures reached: 2 tests failed', failed: '2' });
    expect(Number(m.completedAt)).toBeGreaterThan(0);
    expect(await run.q.claim(run.epoch, 'w1')).toEqual({ kind: 'done', state: 'aborted', reason: 'max-failures reached: 2 tests failed' });
    expect(await run.q.heartbeat(run.epoch, 'w1')).toEqual({ kind: 'ok', state: 'aborted', reason: 'max-failures reached: 2 tests failed', controllerAlive: false });
    // Abort again keeps the first reason.
    expect(await run.q.abort(run.epoch, 'timeout')).toBe('aborted');
    expect((await meta(run)).reason).toBe('max-failures reached: 2 tests failed');
  });

  test('max-failures does not abort a run that the same report completes', async () => {
    const run = await newRun(['a', 'b'], { settings: { batchSize: 2, maxFailures: 1 } });
    const c = await claimOk(run, 'w1');
    await run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ a: 'failed', b: 'passed' }));
    expect(await meta(run)).toMatchObject({ state: 'complete', reason: '' });
  });

  test('abort sets aborted with its reason but never overrides complete', async () => {
    const run = await newRun(['a', 'b']);
    const c = await claimOk(run, 'w1');
    expect(await run.q.abort(run.epoch, 'controller got SIGTERM')).toBe('aborted');
    const m = await meta(run);
    expect(m).toMatchObject({ state: 'aborted', reason: 'controller got SIGTERM' });
    expect(Number(m.completedAt)).toBeGreaterThan(0);
    // A report after the abort still records results, and the run stays aborted even when all is final.
    expect((await run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ a: 'passed', b: 'passed' }))).finals).toEqual({ a: 'passed', b: 'passed' });
    expect(await meta(run)).toMatchObject({ state: 'aborted', done: '2' });

    const run2 = await newRun(['a']);
    const k = await claimOk(run2, 'w1');
    await run2.q.report(run2.epoch, 'w1', k.lease, 'finished', results({ a: 'passed' }));
    const done = await meta(run2);
    expect(await run2.q.abort(run2.epoch, 'too late')).toBe('complete');
    expect(await meta(run2)).toEqual(done);
  });
});

// ---------------------------------------------------------------------------------------------
// TTLs (invariant 6) and epochs (invariant 7)
// ---------------------------------------------------------------------------------------------

describe('TTLs and epochs', () => {
  test('every key has a TTL through a full run with requeues, leases, history and heartbeats', async () => {
    const run = await newRun(names(6), { settings: { batchSize: 3, retries: 1, maxAttempts: 2 }, workers: ['w1', 'w2'] });
    const seen = new Set<string>();
    const check = async () => { for (const k of await assertAllTtl(run)) seen.add(k); };
    await check();
    const c = await claimOk(run, 'w1');
    await run.q.heartbeat(run.epoch, 'w1');
    await run.q.reap(run.epoch, 5000);
    await check();
    await run.q.report(run.epoch, 'w1', c.lease, 'split', none);
    await check(); // requeue created
    // Drain the requeue (the key vanishes), then recreate it.
    for (const id of ['t01', 't02', 't03']) {
      const k = await claimOk(run, 'w2');
      expect(k.tests).toEqual([id]);
      await run.q.report(run.epoch, 'w2', k.lease, 'finished', results({ [id]: id === 't02' ? 'failed' : 'passed' }));
      await check();
    }
    const k = await claimOk(run, 'w2');
    expect(k.tests).toEqual(['t02']);
    expect(await redis.exists(run.keys.requeue)).toBe(0);
    await run.q.report(run.epoch, 'w2', k.lease, 'finished', results({ t02: 'failed' }));
    expect(await redis.exists(run.keys.requeue)).toBe(0);
    const c2 = await claimOk(run, 'w1');
    expect(c2.tests).toEqual(['t04', 't05', 't06']);
    expect(await redis.exists(run.keys.queue)).toBe(0);
    await run.q.report(run.epoch, 'w1', c2.lease, 'killed', results({ t05: 'passed' }));
    expect(await list(run.keys.requeue)).toEqual(['t04', 't06']);
    await check(); // recreated requeue has a TTL
    // A reclaimed lease's late result recreating the requeue.
    const c3 = await claimOk(run, 'w1');
    await kill(run, 'w1');
    await run.q.reap(run.epoch, 5000);
    await claimOk(run, 'w2').then((x) => run.q.report(run.epoch, 'w2', x.lease, 'finished', results({ [x.tests[0]]: 'passed' })));
    expect(await redis.exists(run.keys.requeue)).toBe(0);
    // t04 became lost (maxAttempts 2), t06 passed: nothing left to requeue for the late report.
    await run.q.report(run.epoch, 'w1', c3.lease, 'finished', results({ t04: 'failed' }));
    await run.q.register('w1');
    await run.q.release(run.epoch, 'w2', '', 'finished');
    await run.q.reap(run.epoch, 5000);
    expect((await meta(run)).state).toBe('complete');
    await check();
    for (const key of [run.keys.meta, run.keys.tests, run.keys.leases, run.keys.workers, run.keys.history, run.keys.controller, run.keys.hbPrefix + 'w1']) {
      expect(seen, key).toContain(key);
    }
    expect(seen).toContain(run.keys.requeue);
    expect(seen).toContain(run.keys.queue);
  });

  test('a fenced late result recreating an emptied requeue gives it a TTL', async () => {
    const run = await newRun(['a'], { settings: { retries: 1 } });
    const l1 = await claimOk(run, 'w1');
    await kill(run, 'w1');
    await run.q.reap(run.epoch, 1000);
    expect(await list(run.keys.requeue)).toEqual(['a']);
    // LREM empties the requeue, then the failure (retry left) pushes it again onto a new key.
    await run.q.report(run.epoch, 'w1', l1.lease, 'finished', results({ a: 'failed' }));
    expect(await list(run.keys.requeue)).toEqual(['a']);
    const pttl = await redis.pttl(run.keys.requeue);
    expect(pttl).toBeGreaterThan(0);
    await assertAllTtl(run);
  });

  test('after a second reset with a new epoch, every call with the old epoch is refused and changes nothing', async () => {
    const run = await newRun(['a', 'b', 'c'], { settings: { batchSize: 2 }, workers: ['w1'] });
    const old = await claimOk(run, 'w1');
    const oldEpoch = run.epoch;

    // The controller restarts the same run id: new epoch, fresh keys.
    const epoch = `${oldEpoch}-second`;
    await run.q.reset(epoch, TTL, { ...DEFAULTS, batchSize: 2 });
    await run.q.seed(epoch, ['a', 'b', 'c']);
    await run.q.start(epoch);
    const run2: Run = { ...run, epoch };
    expect(await run.q.register('w1')).toMatchObject({ epoch });
    expect(await run.q.register('w2')).toMatchObject({ epoch });
    const cur = await claimOk(run2, 'w2');
    expect(cur.lease).toBe(old.lease); // lease ids restart: the epoch is what tells them apart
    await redis.del(run.keys.hbPrefix + 'w1', run.keys.controller);

    const before = await snapshot(run.keys.prefix);
    expect(await run.q.claim(oldEpoch, 'w1')).toEqual({ kind: 'stale' });
    expect(await run.q.report(oldEpoch, 'w1', old.lease, 'split', results({ a: 'passed' }))).toEqual({ kind: 'stale', finals: {} });
    expect(await run.q.report(oldEpoch, 'w2', cur.lease, 'finished', results({ a: 'passed', b: 'passed' }))).toEqual({ kind: 'stale', finals: {} });
    expect(await run.q.heartbeat(oldEpoch, 'w1')).toEqual({ kind: 'stale' });
    const sk = scriptKeys(run.keys, run.keys.hbPrefix + 'w2');
    expect(await run.q.redis.sl_release(...sk, oldEpoch, 'w2', cur.lease, 'cancelled')).toBe('stale');
    expect(await run.q.release(oldEpoch, 'w1', old.lease, 'cancelled')).toBe(0);
    await expect(run.q.seed(oldEpoch, ['x'])).rejects.toThrow(/reset by another controller/);
    await expect(run.q.start(oldEpoch)).rejects.toThrow(/reset by another controller/);
    expect(await run.q.reap(oldEpoch, 1000)).toBeNull();
    expect(await run.q.abort(oldEpoch, 'old controller')).toBe('stale');
    expect(await snapshot(run.keys.prefix)).toEqual(before);
    expect(await redis.exists(run.keys.hbPrefix + 'w1', run.keys.controller)).toBe(0);

    // The current epoch still works.
    expect((await run.q.report(epoch, 'w2', cur.lease, 'finished', results({ a: 'passed', b: 'passed' }))).finals).toEqual({ a: 'passed', b: 'passed' });
    await checkPlaces(run2);
  });
});

// ---------------------------------------------------------------------------------------------
// Invariant 2 at every step
// ---------------------------------------------------------------------------------------------

// Seeded (rng, bench/lib.mjs), so that a failing walk replays.
const WALK_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
/** What each walk went through, by seed: filled by the walks of this process, else walked again. */
const walkStats = new Map<number, { fencedLanded: number; reclaimed: number }>();

describe('invariant 2 at every step', () => {
  test('scripted scenario: every test is in exactly one place after each call', async () => {
    const ids = names(8);
    const run = await newRun(ids, { settings: { batchSize: 3, retries: 1, maxAttempts: 2 }, workers: ['w1', 'w2', 'w3'], start: false });
    const steps: string[] = [];
    const step = async (what: string, fn: () => Promise<unknown>) => {
      steps.push(what);
      await fn();
      await checkPlaces(run);
      await assertAllTtl(run);
    };
    // Not started yet: all queued.
    expect((await checkPlaces(run)).queued).toEqual(ids);
    let l1!: Ok, l2!: Ok, l3!: Ok, l4!: Ok, l5!: Ok;
    await step('start', () => run.q.start(run.epoch));
    await step('w1 claims t01-t03', async () => { l1 = await claimOk(run, 'w1'); });
    await step('w2 claims t04-t06', async () => { l2 = await claimOk(run, 'w2'); });
    await step('w3 claims t07-t08', async () => { l3 = await claimOk(run, 'w3'); });
    await step('w3 claims again and gets its own batch back', async () => expect(await run.q.claim(run.epoch, 'w3')).toEqual(l3));
    await step('w1 splits', () => run.q.report(run.epoch, 'w1', l1.lease, 'split', none));
    await step('w2 reports t04 failed, t05 passed, t06 missing', () => run.q.report(run.epoch, 'w2', l2.lease, 'finished', results({ t04: 'failed', t05: 'passed' })));
    await step('w3 dies', () => kill(run, 'w3'));
    await step('controller reaps w3', async () => expect((await run.q.reap(run.epoch, 1000))!.reaped).toEqual(['w3']));
    await step('w1 claims t01 alone', async () => { l4 = await claimOk(run, 'w1'); expect(l4.tests).toEqual(['t01']); });
    await step('w2 claims t02 alone', async () => { l5 = await claimOk(run, 'w2'); expect(l5.tests).toEqual(['t02']); });
    await step('w3 late report: t07 passed (requeued: lands), t08 failed (lands, back to requeue)', async () => {
      expect(await run.q.report(run.epoch, 'w3', l3.lease, 'finished', results({ t07: 'passed', t08: 'failed' }))).toEqual({ kind: 'fenced', finals: { t07: 'passed' } });
    });
    await step('w3 rejoins and claims', async () => { const k = await claimOk(run, 'w3'); expect(k.tests).toEqual(['t03']); l3 = k; });
    await step('w1 cancelled', async () => expect(await run.q.release(run.epoch, 'w1', l4.lease, 'cancelled')).toBe(1));
    await step('w2 passes t02', () => run.q.report(run.epoch, 'w2', l5.lease, 'finished', results({ t02: 'passed' })));
    await step('w3 times out on t03', () => run.q.report(run.epoch, 'w3', l3.lease, 'timed-out', none));
    // Drain: w2 runs everything left alone, passing it.
    for (let i = 0; i < 20; i++) {
      const c = await run.q.claim(run.epoch, 'w2');
      if (c.kind !== 'ok') { expect(c).toEqual({ kind: 'done', state: 'complete', reason: '' }); break; }
      expect(c.isolated).toBe(true);
      await step(`w2 passes ${c.tests}`, () => run.q.report(run.epoch, 'w2', c.lease, 'finished', results(Object.fromEntries(c.tests.map((t) => [t, 'passed'])))));
    }
    const p = await checkPlaces(run);
    expect(Object.fromEntries(p.final)).toEqual({
      t01: 'passed', t02: 'passed', t03: 'passed', t04: 'flaky', t05: 'passed', t06: 'passed', t07: 'passed', t08: 'flaky',
    });
    expect(await meta(run)).toMatchObject({ state: 'complete', done: '8' });
    expect(steps.length).toBeGreaterThan(15);
  });

  // Walks 1-5 claim fixed-size batches; 6-8 adaptive ones (skipping tests that do not fit, putting
  // them back, taking crumbs), from a queue seeded longest first with seeded random costs.
  test.each(WALK_SEEDS)('random walk %i: invariants 1 and 2 hold at every step and the run completes', async (seed) => {
    await randomWalk(seed);
  });

  test('the random walks reclaimed leases and landed late results of some of them', async () => {
    // Measured: 18 reclaimed leases, 4 late reports that landed a result, over the 8 seeds.
    let reclaimed = 0;
    let fencedLanded = 0;
    for (const seed of WALK_SEEDS) {
      const w = walkStats.get(seed) ?? (await randomWalk(seed));
      reclaimed += w.reclaimed;
      fencedLanded += w.fencedLanded;
    }
    expect(reclaimed).toBeGreaterThan(5);
    expect(fencedLanded).toBeGreaterThan(0);
  }, 120_000);
});

/**
 * A seeded random walk of 4 workers over 24 tests: claims, reports of every kind, releases, deaths,
 * reaps and late reports, with invariants 1 and 2 checked after each step. Returns what it went through.
 */
async function randomWalk(seed: number): Promise<{ fencedLanded: number; reclaimed: number }> {
  // (A block: the walk keeps the indentation it had as a test body, so that its history stays readable.)
  {
    const rand = rng(seed * 7919);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const adaptive = seed > 5;
    const listed = names(24);
    const costs = new Map(listed.map((id) => [id, Math.round(50 + 3_000 * rand() ** 3)]));
    const ids = adaptive ? [...listed].sort((a, b) => costs.get(b)! - costs.get(a)!) : listed;
    const settings = adaptive
      ? { batchSize: 6, retries: 1, maxAttempts: 3, batchMs: 4_000, share: 0.9, startMs: 300, cutStarts: 8, minStarts: 1, slackMs: 2_400, workers: 4 }
      : { batchSize: 4, retries: 1, maxAttempts: 3 };
    const workers = ['w1', 'w2', 'w3', 'w4'];
    const run = await newRun(ids, { settings, workers, costs: adaptive ? costs : undefined });
    let skips = 0; // adaptive claims that were not a prefix of the queue
    const held = new Map<string, Ok>(); // worker -> its active lease
    const reclaimed: { w: string; lease: Ok }[] = [];
    // finals: what the replies said became final; a reap or a release makes tests final (lost) too,
    // without naming them: those steps set lostOk and the check below takes them from Redis.
    const finals = new Map<string, string>();
    let lostOk = false;
    let fencedLanded = 0; // late reports of reclaimed leases that landed at least one result
    const land = (f: Record<string, string>) => {
      for (const [id, st] of Object.entries(f)) {
        expect(finals.has(id), `${id} made final twice`).toBe(false);
        finals.set(id, st);
      }
    };
    const randomResults = (tests: string[]) => {
      const m = new Map<string, TestResult>();
      for (const t of tests) {
        const x = rand();
        if (x < 0.45) m.set(t, res('passed'));
        else if (x < 0.6) m.set(t, res('failed', 3, 'boom'));
        else if (x < 0.65) m.set(t, res('skipped'));
      }
      return m;
    };
    let complete = false;
    for (let stepNo = 0; stepNo < 3000 && !complete; stepNo++) {
      const x = rand();
      if (x < 0.05) {
        lostOk = true;
        const p = (await run.q.reap(run.epoch, 5000))!;
        expect(p.reaped).toEqual([]);
      } else if (x < 0.12 && reclaimed.length > 0) {
        const { w, lease } = reclaimed.splice(Math.floor(rand() * reclaimed.length), 1)[0];
        const rep = await run.q.report(run.epoch, w, lease.lease, pick(['finished', 'killed', 'timed-out', 'split'] as const), randomResults(lease.tests));
        expect(rep.kind).toBe('fenced');
        land(rep.finals);
        fencedLanded += (await history(run)).filter((e) => e.b === lease.lease && e.o !== 'lost').length > 0 ? 1 : 0;
      } else {
        const w = pick(workers);
        const mine = held.get(w);
        if (!mine) {
          const before = await list(run.keys.queue);
          const c = await run.q.claim(run.epoch, w);
          if (c.kind === 'ok') {
            if (c.isolated) expect(c.tests.length).toBe(1);
            if (adaptive && !c.isolated) {
              // The head leads; the rest of the queue keeps its order; qcost follows what is queued.
              expect(c.tests[0]).toBe(before[0]);
              const rest = before.filter((id) => !c.tests.includes(id));
              expect(await list(run.keys.queue)).toEqual(rest);
              if (c.tests.some((id, i) => id !== before[i])) skips++;
              const q = rest.reduce((a, id) => a + costs.get(id)!, 0);
              expect(Number((await meta(run)).qcost)).toBe(q);
            }
            held.set(w, c);
          } else {
            expect(['empty', 'done']).toContain(c.kind);
          }
        } else {
          const y = rand();
          if (y < 0.7) {
            const rep = await run.q.report(run.epoch, w, mine.lease, pick(['finished', 'killed', 'timed-out', 'split'] as const), randomResults(mine.tests));
            expect(rep.kind).toBe('ok');
            land(rep.finals);
            held.delete(w);
          } else if (y < 0.8) {
            lostOk = true;
            await run.q.release(run.epoch, w, mine.lease, 'cancelled');
            held.delete(w);
            await run.q.register(w);
          } else if (y < 0.9) {
            await kill(run, w);
            lostOk = true;
            const p = (await run.q.reap(run.epoch, 5000))!;
            expect(p.reaped).toEqual([w]);
            expect(await run.q.heartbeat(run.epoch, w)).toMatchObject({ kind: 'reclaimed' });
            reclaimed.push({ w, lease: mine });
            held.delete(w);
          } else {
            expect(await run.q.heartbeat(run.epoch, w)).toMatchObject({ kind: 'ok' });
          }
        }
      }
      const places = await checkPlaces(run);
      for (const [id, st] of places.final) {
        if (!finals.has(id) && lostOk) {
          expect(st, `${id} made final by a reap or a release`).toBe('lost');
          finals.set(id, st);
        }
        // First final result wins: a final status never changes.
        expect(finals.get(id), `final ${id}`).toBe(st);
      }
      expect(places.final.size).toBe(finals.size);
      lostOk = false;
      if (stepNo % 10 === 0) await assertAllTtl(run);
      complete = (await meta(run)).state === 'complete';
      expect(complete).toBe(finals.size === ids.length);
    }
    expect(complete).toBe(true);

    // Invariant 1, and the packed counters agree with the history.
    const h = await history(run);
    const ls = await leases(run);
    for (const id of ids) {
      const st = await testState(run, id);
      const mine = h.filter((e) => e.t === id);
      expect(st.attempts, id).toBe(mine.filter((e) => e.o === 'lost' || e.o === 'timeout').length);
      expect(st.fails, id).toBe(mine.filter((e) => e.o === 'failed').length);
      expect(st.passes, id).toBe(mine.filter((e) => e.o === 'passed').length);
      expect(st.runs, id).toBe([...ls.values()].filter((l) => l.t.includes(id)).length);
      if (st.where === 'lost') expect(st.attempts).toBe(settings.maxAttempts);
      else expect(st.attempts).toBeLessThan(settings.maxAttempts);
      if (st.where === 'failed') expect([st.fails, st.passes]).toEqual([settings.retries + 1, 0]);
      if (st.where === 'flaky') expect(st.fails > 0 && st.passes > 0).toBe(true);
      if (st.where === 'passed') expect([st.fails, st.passes]).toEqual([0, 1]);
    }
    // The walk went through the interesting paths (it is deterministic: the seeds stay meaningful).
    expect(new Set(h.map((e) => e.o))).toContain('passed');
    expect(new Set(h.map((e) => e.o))).toContain('lost');
    expect([...ls.values()].some((l) => l.st === 'released')).toBe(true);
    if (adaptive) expect(skips, 'adaptive claims that skipped a test').toBeGreaterThan(0);
    const stats = { fencedLanded, reclaimed: [...ls.values()].filter((l) => l.st === 'reclaimed').length };
    walkStats.set(seed, stats);
    const d = await run.q.readRun('tests', 'r', ids);
    expect(d.tests.map((t) => t.id)).toEqual(ids);
    expect(d.tests.every((t) => t.status !== null)).toBe(true);
    expect(Number((await meta(run)).done)).toBe(ids.length);
    for (const w of workers) expect(await run.q.claim(run.epoch, w)).toEqual({ kind: 'done', state: 'complete', reason: '' });
    await assertAllTtl(run);
    return stats;
  }
}

// ---------------------------------------------------------------------------------------------
// Corrupt data
// ---------------------------------------------------------------------------------------------

describe('corrupt data', () => {
  const alive = async () => expect(await redis.ping()).toBe('PONG');

  test('garbage in the tests hash: claim, report and reap reject with a corrupt-state error', async () => {
    const run = await newRun(['a', 'b', 'c'], { settings: { batchSize: 1 }, workers: ['w1', 'w2'] });
    await redis.hset(run.keys.tests, 'a', 'garbage');
    await expect(run.q.claim(run.epoch, 'w1')).rejects.toThrow(/corrupt run state.*test a/);
    await alive();

    const run2 = await newRun(['a', 'b'], { settings: { batchSize: 2 }, workers: ['w1'] });
    const c = await claimOk(run2, 'w1');
    await redis.hset(run2.keys.tests, 'b', 'h:1|x|0|0|0');
    await expect(run2.q.report(run2.epoch, 'w1', c.lease, 'finished', results({ a: 'passed', b: 'passed' }))).rejects.toThrow(/corrupt/);
    await alive();
    await kill(run2, 'w1');
    await expect(run2.q.reap(run2.epoch, 1000)).rejects.toThrow(/corrupt/);
    await alive();
  });

  test('a queued test without any state: claim rejects with a corrupt-state error', async () => {
    const run = await newRun(['a', 'b']);
    await redis.hdel(run.keys.tests, 'a');
    await expect(run.q.claim(run.epoch, 'w1')).rejects.toThrow(/corrupt.*queued test a has no state/);
    await alive();
  });

  test.each(['not json', '42', '"a string"', '[1', '[]', '{}', '{"state":"alive"}', '{"state":"alive","lease":"","batches":"x","tests":0,"busyMs":0,"lostBatches":0}'])('garbage in the workers hash (%s): every script that reads it rejects', async (junk) => {
    const run = await newRun(['a'], { workers: ['w1'] });
    await redis.hset(run.keys.workers, 'w1', junk);
    await expect(run.q.claim(run.epoch, 'w1')).rejects.toThrow(/corrupt run state.*worker w1/);
    await expect(run.q.heartbeat(run.epoch, 'w1')).rejects.toThrow(/corrupt/);
    await expect(run.q.register('w1')).rejects.toThrow(/corrupt/);
    await expect(run.q.release(run.epoch, 'w1', '', 'finished')).rejects.toThrow(/corrupt/);
    await expect(run.q.reap(run.epoch, 1000)).rejects.toThrow(/corrupt/);
    await alive();
  });

  test('a bad worker record found by report writes nothing: the lease stays active, its tests held', async () => {
    const run = await newRun(['a', 'b'], { settings: { batchSize: 2 } });
    const c = await claimOk(run, 'w1');
    const good = (await redis.hget(run.keys.workers, 'w1'))!;
    await redis.hset(run.keys.workers, 'w1', '{"state":"alive"}');
    const before = await snapshot(run.keys.prefix);
    await expect(run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ a: 'passed', b: 'passed' }))).rejects.toThrow(/corrupt run state.*worker w1/);
    expect(await snapshot(run.keys.prefix)).toEqual(before);
    await redis.hset(run.keys.workers, 'w1', good);
    await checkPlaces(run);
    expect((await run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ a: 'passed', b: 'passed' }))).kind).toBe('ok');
  });

  test.each(['{}', '{"w":"w1","s":1,"t":"a","st":"active"}', '[]'])('a bad lease record (%s): report and release reject', async (junk) => {
    const run = await newRun(['a'], { workers: ['w1'] });
    const c = await claimOk(run, 'w1');
    await redis.hset(run.keys.leases, c.lease, junk);
    await expect(run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ a: 'passed' }))).rejects.toThrow(/corrupt run state.*lease/);
    await expect(run.q.release(run.epoch, 'w1', c.lease, 'cancelled')).rejects.toThrow(/corrupt run state.*lease/);
    await kill(run, 'w1');
    await expect(run.q.reap(run.epoch, 1000)).rejects.toThrow(/corrupt run state.*lease/);
    await alive();
  });

  test('garbage in the leases hash or in the results: report rejects with a corrupt-state error', async () => {
    const run = await newRun(['a'], { workers: ['w1'] });
    const c = await claimOk(run, 'w1');
    const sk = scriptKeys(run.keys, run.keys.hbPrefix + 'w1');
    await expect(run.q.redis.sl_report(...sk, run.epoch, 'w1', c.lease, 'finished', '{not json')).rejects.toThrow(/corrupt.*results/);
    await redis.hset(run.keys.leases, c.lease, '{{{');
    await expect(run.q.report(run.epoch, 'w1', c.lease, 'finished', results({ a: 'passed' }))).rejects.toThrow(/corrupt.*lease/);
    await expect(run.q.release(run.epoch, 'w1', c.lease, 'cancelled')).rejects.toThrow(/corrupt/);
    await alive();
  });
});

// ---------------------------------------------------------------------------------------------
// Cost
// ---------------------------------------------------------------------------------------------

async function commandStats(): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const out: Record<string, number> = {};
  for (const line of info.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m && !/^(config|info)\b/.test(m[1])) out[m[1]] = Number(m[2]);
  }
  return out;
}

describe('cost', () => {
  test('claim + report of a 10-test batch costs 28 Redis commands, scripts included (README, "Round trips")', async () => {
    const run = await newRun(names(20), { settings: { batchSize: 10, retries: 1 }, workers: ['w1'] });
    // Warm-up batch: the scripts are loaded (EVALSHA hits from now on).
    const w = await claimOk(run, 'w1');
    await run.q.report(run.epoch, 'w1', w.lease, 'finished', results(Object.fromEntries(w.tests.map((t) => [t, 'passed']))));

    await redis.config('RESETSTAT');
    const c = await claimOk(run, 'w1');
    expect(c.tests.length).toBe(10);
    // 9 pass, 1 fails with a retry left (goes to the requeue): the history and requeue pushes both run.
    const r = results(Object.fromEntries(c.tests.map((t, i) => [t, i === 4 ? 'failed' : 'passed'])));
    await run.q.report(run.epoch, 'w1', c.lease, 'finished', r);
    const stats = await commandStats();
    const total = Object.values(stats).reduce((a, b) => a + b, 0);
    // README, "Round trips": 28 commands in all, 2 EVALSHA + 26 run by the scripts, whatever the batch
    // size (each script reads and writes the tests hash with one HMGET and one HSET a call):
    //   claim (12): HMGET meta, HGET worker, TIME, LPOP requeue, LPOP queue 10, SET hb, HMGET tests,
    //     HINCRBY seq, HSET tests, HSET lease, HSET meta, HSET worker (the reply's attempt comes from
    //     the records it just wrote);
    //   report (14): HMGET meta, HGET lease, TIME, HMGET tests, HGET worker, HSET lease, HSET worker,
    //     SET hb, HSET meta, HSET tests, RPUSH requeue + EXPIRE (new list), RPUSH history, HINCRBY done.
    expect(stats.evalsha).toBe(2);
    expect(total, JSON.stringify(stats)).toBe(28);
  });
});

// ---------------------------------------------------------------------------------------------
// Bad days: batches past Lua's unpack limit, a worker id used twice, a blind controller, large runs
// ---------------------------------------------------------------------------------------------

/** Reports every test of a batch passed. */
async function passAll(run: Run, w: string, c: Ok) {
  return run.q.report(run.epoch, w, c.lease, 'finished', results(Object.fromEntries(c.tests.map((t) => [t, 'passed']))));
}

describe('bad days', () => {
  // Lua's unpack fails near 8,000 values, after the claim popped its tests (no rollback): every list
  // a script passes to one command must be chunked.
  test('batch-size 10,000 over 25,000 tests: every claim and report lands, all passed', async () => {
    const run = await newRun(names(25_000), { settings: { batchSize: 10_000 } });
    const sizes: number[] = [];
    for (;;) {
      const c = await run.q.claim(run.epoch, 'w1');
      if (c.kind !== 'ok') break;
      sizes.push(c.tests.length);
      // A claim sent again gets the same (large) batch.
      expect(await claimOk(run, 'w1')).toEqual(c);
      expect((await passAll(run, 'w1', c)).kind).toBe('ok');
    }
    expect(sizes).toEqual([10_000, 10_000, 5_000]);
    expect(await meta(run)).toMatchObject({ state: 'complete', done: '25000', total: '25000' });
    expect((await checkPlaces(run)).final.size).toBe(25_000);
    await assertAllTtl(run);
  });

  test('adaptive batches over a 10,000-test window: the costs read for sizing are chunked too', async () => {
    const ids = names(12_000);
    const run = await newRun(ids, { settings: { batchSize: 10_000, batchMs: 5_000_000, share: 1 }, costs: new Map(ids.map((id) => [id, 100])) });
    const c = await claimOk(run, 'w1');
    expect(c.tests.length).toBeGreaterThan(8_000);
    expect((await passAll(run, 'w1', c)).kind).toBe('ok');
    await checkPlaces(run);
  });

  test('a reap of 20,000 held tests requeues them all; the late reports land them, all passed', async () => {
    const run = await newRun(names(20_000), { settings: { batchSize: 10_000 }, workers: ['w1', 'w2'] });
    const c1 = await claimOk(run, 'w1');
    const c2 = await claimOk(run, 'w2');
    await kill(run, 'w1');
    await kill(run, 'w2');
    const p = await run.q.reap(run.epoch, 1000);
    expect(p).toMatchObject({ requeued: 20_000, running: 0, live: 0 });
    expect([...p!.reaped].sort()).toEqual(['w1', 'w2']);
    const places = await checkPlaces(run, { requireLiveHolder: false });
    expect(places.requeued.length).toBe(20_000);
    expect([...(await leases(run)).values()].map((l) => l.st)).toEqual(['reclaimed', 'reclaimed']);
    // Rule 3: the late results of the reclaimed leases land for tests waiting in the requeue.
    // (In the order they were requeued: each LREM then finds its test at the head.)
    const batchOf: Record<string, Ok> = { w1: c1, w2: c2 };
    for (const w of p!.reaped) expect((await passAll(run, w, batchOf[w])).kind).toBe('fenced');
    expect(await meta(run)).toMatchObject({ state: 'complete', done: '20000' });
    expect((await checkPlaces(run, { requireLiveHolder: false })).final.size).toBe(20_000);
  });

  test('a bad result found by report writes nothing, even for a reclaimed lease', async () => {
    const run = await newRun(['a', 'b'], { settings: { batchSize: 2 } });
    const c = await claimOk(run, 'w1');
    await kill(run, 'w1');
    await run.q.reap(run.epoch, 1000);
    const before = await snapshot(run.keys.prefix);
    const sk = scriptKeys(run.keys, run.keys.hbPrefix + 'w1');
    await expect(run.q.redis.sl_report(...sk, run.epoch, 'w1', c.lease, 'finished', '{"a":{"o":"passed","d":1},"b":7}')).rejects.toThrow(/corrupt run state.*results/);
    expect(await snapshot(run.keys.prefix)).toEqual(before);
  });

  test('a corrupt worker record found by reap writes nothing, though another worker was dead before it', async () => {
    const run = await newRun(['a', 'b', 'c'], { settings: { batchSize: 1 }, workers: ['w1'] });
    await claimOk(run, 'w1');
    await kill(run, 'w1');
    // A new field: HGETALL lists it after w1, so reap meets the dead worker first.
    await redis.hset(run.keys.workers, 'w2', '{"state":"alive"}');
    const before = await snapshot(run.keys.prefix);
    await expect(run.q.reap(run.epoch, 1000)).rejects.toThrow(/corrupt run state.*worker w2/);
    expect(await snapshot(run.keys.prefix)).toEqual(before);
  });

  test('a claim that meets a corrupt or missing queued state puts the tests it popped back, in order', async () => {
    const run = await newRun(names(5), { settings: { batchSize: 3 } });
    await redis.hset(run.keys.tests, 't02', 'garbage');
    await expect(run.q.claim(run.epoch, 'w1')).rejects.toThrow(/corrupt run state.*test t02/);
    expect(await list(run.keys.queue)).toEqual(names(5));
    await redis.hdel(run.keys.tests, 't02');
    await expect(run.q.claim(run.epoch, 'w1')).rejects.toThrow(/corrupt run state.*queued test t02 has no state/);
    expect(await list(run.keys.queue)).toEqual(names(5));
    await assertAllTtl(run);
  });

  test('a worker id held by another live instance is not taken over; a dead one\'s is', async () => {
    const run = await newRun(['a', 'b', 'c', 'd'], { settings: { batchSize: 2 } });
    const first = await claimOk(run, 'w1');
    // A second process given the same worker id (another Queue: another instance token).
    const twin = new Queue(redis, run.keys);
    const before = await snapshot(run.keys.prefix);
    const clash = await twin.register('w1');
    expect(clash).toMatchObject({ kind: 'clash' });
    expect((clash as { expiresInMs: number }).expiresInMs).toBeGreaterThan(0);
    expect(await snapshot(run.keys.prefix), 'a clash writes nothing').toEqual(before);
    // The twin takes another id; both run their batches, and neither fences the other.
    expect(await twin.register('w1-2')).toMatchObject({ kind: 'ok', epoch: run.epoch });
    const second = await twin.claim(run.epoch, 'w1-2') as Ok;
    expect((await passAll(run, 'w1', first)).kind).toBe('ok');
    expect((await twin.report(run.epoch, 'w1-2', second.lease, 'finished', results(Object.fromEntries(second.tests.map((t) => [t, 'passed']))))).kind).toBe('ok');
    expect(await meta(run)).toMatchObject({ state: 'complete', done: '4' });
    expect(await run.q.register('w1'), 'the same instance registers again freely').toMatchObject({ kind: 'ok' });
  });

  test('a restart (new instance, previous heartbeat key expired) takes the id over; the old instance is fenced', async () => {
    const run = await newRun(['a', 'b', 'c', 'd'], { settings: { batchSize: 2 } });
    const first = await claimOk(run, 'w1');
    await kill(run, 'w1');
    const restarted = new Queue(redis, run.keys);
    expect(await restarted.register('w1')).toMatchObject({ kind: 'ok', epoch: run.epoch });
    // The previous process's batch ends without a result, back to the requeue.
    expect((await leases(run)).get(first.lease)).toMatchObject({ st: 'released' });
    const c = await restarted.claim(run.epoch, 'w1') as Ok;
    expect(c.kind).toBe('ok');
    // The old instance (say it was frozen, not dead) can neither heartbeat, claim nor hand back the new one's batch.
    expect(await run.q.heartbeat(run.epoch, 'w1')).toMatchObject({ kind: 'reclaimed' });
    expect(await run.q.claim(run.epoch, 'w1')).toEqual({ kind: 'stale' });
    expect(await run.q.release(run.epoch, 'w1', '', 'cancelled')).toBe(0);
    expect((await leases(run)).get(c.lease)).toMatchObject({ st: 'active' });
    expect(await restarted.heartbeat(run.epoch, 'w1')).toMatchObject({ kind: 'ok' });
    await checkPlaces(run);
  });

  test('Redis paused past heartbeat-ttl: the first tick after reaps no healthy worker and charges no attempt', async () => {
    const run = await newRun(names(4), { settings: { batchSize: 2, heartbeatTtl: 1 }, workers: ['w1', 'w2', 'w3'] });
    const c1 = await claimOk(run, 'w1');
    const c2 = await claimOk(run, 'w2');
    expect(await run.q.reap(run.epoch, 1000)).toMatchObject({ reaped: [], live: 3 });
    // Redis stopped for longer than heartbeat-ttl: every heartbeat key expires together.
    srv.proc!.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 1_600));
    srv.proc!.kill('SIGCONT');
    // The controller's tick reaches Redis before the workers' heartbeats do.
    expect(await run.q.reap(run.epoch, 1000)).toMatchObject({ reaped: [], live: 3, running: 2 });
    for (const c of [c1, c2]) for (const id of c.tests) expect(await testState(run, id)).toMatchObject({ where: `h:${c.lease}`, attempts: 0 });
    // w1 and w2 heartbeat again; w3 was really gone: it alone is reaped, once the grace of heartbeat-ttl ends.
    await run.q.heartbeat(run.epoch, 'w1');
    await run.q.heartbeat(run.epoch, 'w2');
    const reaped = await waitFor('w3 to be reaped after its grace', async () => {
      await run.q.heartbeat(run.epoch, 'w1');
      await run.q.heartbeat(run.epoch, 'w2');
      const p = await run.q.reap(run.epoch, 1000);
      return p!.reaped.length > 0 ? p!.reaped : null;
    }, 5_000, 100);
    expect(reaped).toEqual(['w3']);
    expect((await passAll(run, 'w1', c1)).kind).toBe('ok');
    expect((await passAll(run, 'w2', c2)).kind).toBe('ok');
    for (const id of [...c1.tests, ...c2.tests]) expect(await testState(run, id)).toMatchObject({ where: 'passed', attempts: 0 });
  });

  test('the verdict is written only into its own run, and never recreates an expired meta', async () => {
    const run = await newRun(['a']);
    expect(await run.q.verdict(run.epoch, true)).toBe(true);
    expect((await meta(run)).result).toBe('passed');
    await assertAllTtl(run);
    // Another epoch (the run was reset by another controller): refused, nothing written.
    expect(await run.q.verdict('another-epoch', false)).toBe(false);
    expect((await meta(run)).result).toBe('passed');
    // Meta expired: a plain HSET would recreate it without a TTL.
    await redis.del(run.keys.meta);
    expect(await run.q.verdict(run.epoch, false)).toBe(false);
    expect(await redis.exists(run.keys.meta)).toBe(0);
  });

  test('readRun reads thousands of leases in chunks (no HGETALL of the leases or workers), and misses none', async () => {
    const run = await newRun(names(1_500), { settings: { batchSize: 1 } });
    // 1,500 claims and reports: one lease each.
    for (let i = 0; i < 1_500; i++) {
      const c = await claimOk(run, 'w1');
      await passAll(run, 'w1', c);
    }
    await redis.config('RESETSTAT');
    const d = await run.q.readRun('tests', 'r', run.ids);
    const stats = await commandStats();
    expect(stats.hgetall ?? 0, 'HGETALL: meta only').toBeLessThanOrEqual(1);
    expect(d.batches.map((b) => b.id)).toEqual(Array.from({ length: 1_500 }, (_, i) => String(i + 1)));
    expect(d.batches.every((b) => b.state === 'done' && b.tests.length === 1)).toBe(true);
    expect(d.workers.map((w) => w.id)).toEqual(['w1']);
    expect(d.tests.every((t) => t.status === 'passed')).toBe(true);
  });
});
