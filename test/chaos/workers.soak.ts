// The soak (`npm run chaos -- --soak`, not in CI): rounds of the worker chaos, each a run of its own, until
// at least CHAOS_SOAK_FAULTS faults (default 500) were injected. Every fault of the suite is in the mix:
// jobs SIGKILLed, frozen past and within heartbeat-ttl, replaced (some reusing a dead job's id), started
// twice under one worker id, Redis restarted with persistence, restarted empty, rolled back to an older
// snapshot, and every connection cut or paused (a ChaosProxy between every process and Redis). After each
// round the invariants of checkInvariants hold, and no run lacks a result unless a fault hit it.
//
//   npm run chaos -- --soak                                     the soak (about 10 to 20 min on 2 cores)
//   CHAOS_SOAK_FAULTS=100 npm run chaos -- --soak              a shorter one
//   CHAOS_SOAK_KINDS=kill,freeze-past-ttl npm run chaos -- --soak    only some kinds (names: KINDS below)
//   CHAOS_SEED=<n> npm run chaos -- --soak                      replay the choices of a soak

import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { RedisServer, freePort } from '../helpers/redis-server.js';
import { type ActionRun, removeTempDirs } from '../helpers/action.js';
import { Scenario, cleanup, expectAllKeysExpire, waitFor } from '../e2e/harness.js';
import {
  ChaosProxy, type HistoryEntry, type Job, chaosSeed, checkInvariants, descendants, doneCount, expectedWorkerExit, freezeJob, isLive, killJob, lastLine,
  printFigures, prng, runPrefix, sleep, thawJob,
} from './lib.js';

const TARGET = Number(process.env.CHAOS_SOAK_FAULTS ?? 500);
const HEARTBEAT_TTL = 2;
const MAX_ATTEMPTS = 4;
const POOL = 6;
const MIN_RUNNING = 3;
const TESTS = 150;

/**
 * The kinds of fault, with their weight in the driver's draw. `round-ending` ones end their round (the run's
 * state is gone, so the run cannot complete); the others leave a run that must complete.
 */
const KINDS = {
  kill: 6,
  'freeze-past-ttl': 4,
  'freeze-within-ttl': 3,
  replace: 3,
  'duplicate-id': 1,
  'redis-restart-aof': 1,
  'redis-restart-empty': 0.15,
  'redis-rollback': 0.5,
  'proxy-break': 2,
  'proxy-pause-past-ttl': 1,
  'proxy-pause-within-ttl': 2,
} as const;
type Kind = keyof typeof KINDS;

const enabled = (process.env.CHAOS_SOAK_KINDS ?? Object.keys(KINDS).join(',')).split(',').map((k) => k.trim()).filter(Boolean) as Kind[];
for (const k of enabled) if (!(k in KINDS)) throw new Error(`CHAOS_SOAK_KINDS: unknown kind ${JSON.stringify(k)} (kinds: ${Object.keys(KINDS).join(', ')})`);

/** A durable Redis (AOF, fsync always) that can also come back empty or from an older snapshot. */
class SoakRedis extends RedisServer {
  private readonly durable = ['--appendonly', 'yes', '--appendfsync', 'always'];
  private snapshotFile = '';

  static async startSoak(): Promise<SoakRedis> {
    const s = new SoakRedis(await freePort());
    s.extraArgs = s.durable;
    await s.restart();
    return s;
  }

  /** A consistent copy of the data set now (SAVE, then the RDB file kept aside). */
  async snapshot(): Promise<void> {
    const c = this.client();
    try {
      await c.save();
    } finally {
      c.disconnect();
    }
    this.snapshotFile = join(this.dir, `older-${Date.now()}.rdb`);
    copyFileSync(join(this.dir, 'dump.rdb'), this.snapshotFile);
  }

  get hasSnapshot(): boolean {
    return this.snapshotFile !== '' && existsSync(this.snapshotFile);
  }

  /** Down, then back from the last snapshot: every write since is forgotten. AOF on again once rewritten. */
  async rollback(downMs: number): Promise<void> {
    await this.stop('SIGKILL');
    await sleep(downMs);
    rmSync(join(this.dir, 'appendonlydir'), { recursive: true, force: true });
    copyFileSync(this.snapshotFile, join(this.dir, 'dump.rdb'));
    await this.restartWith(['--appendonly', 'no']);
    await this.durableAgain();
  }

  /** Down, then back with nothing: a Redis without persistence restarted. */
  async restartEmpty(downMs: number): Promise<void> {
    await this.stop('SIGKILL');
    await sleep(downMs);
    rmSync(join(this.dir, 'appendonlydir'), { recursive: true, force: true });
    rmSync(join(this.dir, 'dump.rdb'), { force: true });
    await this.restartWith(['--appendonly', 'no']);
    await this.durableAgain();
  }

  private async restartWith(args: string[]): Promise<void> {
    this.extraArgs = args;
    try {
      await this.restart();
    } finally {
      this.extraArgs = this.durable;
    }
  }

  private async durableAgain(): Promise<void> {
    const c = this.client();
    try {
      await c.config('SET', 'appendonly', 'yes');
      await waitFor('the AOF to be rewritten', async () => /aof_enabled:1[\s\S]*aof_rewrite_in_progress:0/.test(await c.info('persistence')), 30_000, 50);
    } finally {
      c.disconnect();
    }
  }
}

let redis: SoakRedis;
let proxy: ChaosProxy;
beforeAll(async () => {
  redis = await SoakRedis.startSoak();
  proxy = await ChaosProxy.start(redis.port);
});
afterAll(async () => {
  await proxy?.close();
  await redis?.close();
  removeTempDirs();
});
afterEach(cleanup);

interface SoakJob extends Job {
  /** Another live job had its id at some point: its exit status is not checked. */
  shared: boolean;
}

interface Fault {
  kind: Kind;
  at: number;
  until: number;
  /** The job it hit; '' for Redis and the network (every job). */
  id: string;
}

const totals = { rounds: 0, tests: 0, runs: 0, noResultRuns: 0, noResultRunsWithoutFault: 0, lost: 0, reclaimedLeases: 0, lateResultsAccepted: 0, roundsStateLost: 0, doneForgottenByRollbacks: 0 };
const byKind = Object.fromEntries(Object.keys(KINDS).map((k) => [k, 0])) as Record<Kind, number>;
const faultCount = () => Object.values(byKind).reduce((a, b) => a + b, 0);

test(`soak: rounds of chaos until ${TARGET} faults (${enabled.join(', ')}); the invariants hold after every round`, async () => {
  const seed = chaosSeed();
  console.log(`soak seed ${seed} (replay with CHAOS_SEED=${seed} npm run chaos -- --soak)`);
  const rnd = prng(seed);
  const weights = enabled.map((k) => [k, KINDS[k]] as const).filter(([, w]) => w > 0);
  const draw = (): Kind => {
    let x = rnd.next() * weights.reduce((a, [, w]) => a + w, 0);
    for (const [k, w] of weights) if ((x -= w) < 0) return k;
    return weights[weights.length - 1][0];
  };
  const t0 = Date.now();
  while (faultCount() < TARGET) {
    await round(totals.rounds + 1, rnd, draw);
    totals.rounds++;
    console.log(`soak: round ${totals.rounds} done, ${faultCount()} faults so far ${JSON.stringify(byKind)}`);
  }
  printFigures('soak', { seed, minutes: +((Date.now() - t0) / 60_000).toFixed(1), faults: faultCount(), faultsByKind: byKind, ...totals });
  expect(totals.noResultRunsWithoutFault, 'runs without a result that no fault explains').toBe(0);
});

async function round(n: number, rnd: ReturnType<typeof prng>, draw: () => Kind): Promise<void> {
  const s = new Scenario(redis, `soak-${n}`);
  const tests = Array.from({ length: TESTS }, (_, i) => {
    const id = String(i).padStart(3, '0');
    const r = rnd.next();
    return r < 0.02 ? `soak/fail-${id}` : r < 0.8 ? `soak/slow${rnd.int(50, 400)}-${id}` : `soak/pass-${id}`;
  });
  const viaProxy = { 'redis-url': proxy.url };
  // A replacement that starts after the run ended waits no-worker-timeout for a new start of its run id
  // (an explicit run-id: README "Re-runs"), then ends as the run did: keep that short.
  const workerInputs = { ...viaProxy, 'no-worker-timeout': '10' };
  const controller = s.controller(tests, {
    ...viaProxy, 'batch-size': '2', 'heartbeat-ttl': String(HEARTBEAT_TTL), 'max-attempts': String(MAX_ATTEMPTS), 'no-worker-timeout': '60', timeout: '600',
  });
  const jobs: SoakJob[] = [];
  const faults: Fault[] = [];
  let nextId = 1;
  const spawn = (id = `s${n}-${nextId++}`): SoakJob => {
    const shared = jobs.some((j) => j.id === id && !j.killed && j.run.running());
    const job: SoakJob = { id, run: s.worker(id, workerInputs), startedAt: Date.now(), killed: false, killedAt: 0, frozen: null, thawAt: 0, shared };
    if (shared) for (const j of jobs) if (j.id === id) j.shared = true;
    jobs.push(job);
    return job;
  };
  for (let i = 0; i < POOL; i++) spawn();
  const alive = () => jobs.filter((j) => !j.killed && j.run.running());
  const running = () => alive().filter((j) => !j.frozen);
  const thaw = (j: SoakJob) => {
    if (j.frozen) thawJob(j.frozen);
    j.frozen = null;
  };
  const record = (kind: Kind, id = '', ms = 0) => {
    byKind[kind]++;
    faults.push({ kind, at: Date.now(), until: Date.now() + ms, id });
  };
  let rolledBack = false;
  let stateLost = false;
  let pausedUntil = 0;

  await waitFor('the first batches to run', () => s.events().runners.length >= 3, 60_000, 100);
  await redis.snapshot();
  let snapshotAt = Date.now();
  while (controller.running() && faultCount() < TARGET && !stateLost) {
    await sleep(rnd.int(250, 1000));
    const now = Date.now();
    for (const j of jobs) if (j.frozen && now >= j.thawAt) thaw(j);
    if (pausedUntil && now >= pausedUntil) {
      proxy.resume();
      pausedUntil = 0;
    }
    // A fresh older snapshot now and then, so that a rollback forgets a few seconds of the run.
    if (now - snapshotAt > 8_000) {
      await redis.snapshot();
      snapshotAt = Date.now();
    }
    const kind = draw();
    switch (kind) {
      case 'kill': {
        const c = alive();
        if (!c.length) break;
        const v = rnd.pick(c);
        v.killed = true;
        v.killedAt = Date.now();
        v.frozen = null;
        killJob(v.run.pid);
        record(kind, v.id);
        break;
      }
      case 'freeze-past-ttl':
      case 'freeze-within-ttl': {
        const c = running();
        if (c.length <= MIN_RUNNING) break;
        const v = rnd.pick(c);
        const ms = kind === 'freeze-past-ttl' ? rnd.int(HEARTBEAT_TTL * 1000 + 1500, 6000) : rnd.int(200, HEARTBEAT_TTL * 500);
        v.frozen = freezeJob(v.run.pid);
        v.thawAt = Date.now() + ms;
        record(kind, v.id, ms);
        break;
      }
      case 'replace': {
        const dead = jobs.filter((j) => j.killed && Date.now() - j.killedAt > 2_000 && !jobs.some((k) => k.id === j.id && !k.killed && k.run.running()));
        spawn(dead.length && rnd.chance(0.3) ? rnd.pick(dead).id : undefined);
        record(kind);
        break;
      }
      case 'duplicate-id': {
        const c = alive();
        if (!c.length) break;
        const twin = spawn(rnd.pick(c).id);
        record(kind, twin.id);
        break;
      }
      case 'redis-restart-aof': {
        const ms = rnd.int(300, 3000);
        record(kind, '', ms);
        await redis.stop('SIGKILL');
        await sleep(ms);
        await redis.restart();
        break;
      }
      case 'redis-rollback': {
        if (!redis.hasSnapshot) break;
        const ms = rnd.int(200, 1500);
        record(kind, '', ms);
        rolledBack = true;
        const before = await doneCount(s);
        await redis.rollback(ms);
        totals.doneForgottenByRollbacks += before - (await doneCount(s));
        break;
      }
      case 'redis-restart-empty': {
        if (Date.now() - t0Of(jobs) < 10_000) break;
        const ms = rnd.int(200, 1500);
        record(kind, '', ms);
        stateLost = true;
        await redis.restartEmpty(ms);
        break;
      }
      case 'proxy-break':
        proxy.break();
        record(kind);
        break;
      case 'proxy-pause-past-ttl':
      case 'proxy-pause-within-ttl': {
        if (pausedUntil) break;
        const ms = kind === 'proxy-pause-past-ttl' ? rnd.int(HEARTBEAT_TTL * 1000 + 500, 4000) : rnd.int(200, HEARTBEAT_TTL * 500);
        proxy.pause();
        pausedUntil = Date.now() + ms;
        record(kind, '', ms);
        break;
      }
    }
    // Keep at least MIN_RUNNING jobs running (replacements the driver did not draw are not faults).
    while (running().length < MIN_RUNNING) spawn();
  }
  proxy.resume();
  for (const j of jobs) thaw(j);

  if (stateLost) {
    await checkStateLost(s, [controller, ...alive().map((j) => j.run)]);
    totals.roundsStateLost++;
    return;
  }
  // A round stopped by the fault target still finishes its run, fault-free.
  await waitFor('the controller to exit', () => controller.exit, 300_000, 200);
  await waitFor('every surviving worker to exit', () => jobs.every((j) => j.killed || !j.run.running()), 60_000, 100);
  for (const j of jobs) if (j.killed) expect(isLive(j.run.pid), `${j.id} killed`).toBe(false);

  const { report, state, figures } = await checkInvariants(s, tests, { maxAttempts: MAX_ATTEMPTS, complete: true });
  // Every run without a result coincides with a fault: one that hit its job, or Redis or the network.
  // A job that found its id held by a live twin runs as <id>-2, -3...: a fault on the job is on that worker.
  const onJob = (f: Fault, worker: string) => f.id === '' || f.id === worker || new RegExp(`^${f.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(-\\d+)+$`).test(worker);
  const explained = (h: HistoryEntry) => faults.some((f) => onJob(f, h.w) && f.at <= h.e && f.until >= h.s - 250);
  const unexplained = state.history.filter((h) => (h.o === 'lost' || h.o === 'timeout') && !explained(h));
  totals.noResultRunsWithoutFault += unexplained.length;
  expect(unexplained.map((h) => `${h.t} in batch ${h.b} of ${h.w} (${h.s}..${h.e}, "${h.m}")`), `round ${n}: runs without a result and without a fault`).toEqual([]);
  const failing = tests.filter((t) => t.includes('/fail-'));
  if (!rolledBack) {
    // Exit statuses by the contract (a rollback forgets results a worker was told were final; a shared id
    // makes two processes one worker: neither is checked then).
    expect(controller.exit, lastLine(controller)).toEqual({ code: report.counts.failed + report.counts.lost > 0 ? 1 : 0, signal: null });
    for (const j of jobs.filter((x) => !x.killed && !x.shared)) {
      const want = expectedWorkerExit(j.id, j.startedAt, j.run.exitedAt ?? Date.now(), state, report);
      expect(j.run.exit, `round ${n}: worker ${j.id}: ${lastLine(j.run)}`).toEqual({ code: want, signal: null });
    }
  }
  expect(report.counts.failed, 'the fail-* tests failed, nothing else').toBe(failing.length);
  totals.tests += figures.tests;
  totals.runs += figures.runs;
  totals.noResultRuns += figures.noResultRuns;
  totals.lost += figures.counts.lost;
  totals.reclaimedLeases += figures.reclaimedLeases;
  totals.lateResultsAccepted += figures.lateResultsAccepted;
  printFigures(`soak-round-${n}`, { faults: faults.length, rolledBack, jobs: jobs.length, ...figures });
}

const t0Of = (jobs: Job[]) => Math.min(...jobs.map((j) => j.startedAt));

/** The run's state is gone: every process exits 1 within 30 s saying so; nothing left without a TTL. */
async function checkStateLost(s: Scenario, runs: ActionRun[]): Promise<void> {
  const t0 = Date.now();
  await waitFor('every process to exit', () => runs.every((r) => !r.running()), 30_000, 100).catch(() => undefined);
  expect(runs.filter((r) => r.running()).map((r) => r.name), 'processes still running 30 s after the state was lost').toEqual([]);
  for (const r of runs) {
    expect(r.exit, `${r.name}: ${lastLine(r)}`).toEqual({ code: 1, signal: null });
    expect(lastLine(r), r.name).toMatch(/^::error::.*(disappeared|keys were deleted|reset)/);
    expect(descendants(r.pid).filter(isLive), `${r.name} left processes`).toEqual([]);
  }
  await expectAllKeysExpire(redis);
  const c = redis.client();
  try {
    expect(await c.exists(`${runPrefix(s)}meta`), 'no meta recreated').toBe(0);
  } finally {
    c.disconnect();
  }
  printFigures('soak-state-lost', { exitSeconds: +((Date.now() - t0) / 1000).toFixed(1) });
}
