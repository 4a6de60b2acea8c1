// Chaos 1: one controller and 8 workers over ~300 fake tests while a driver with a seeded PRNG SIGKILLs
// jobs with their process trees, freezes jobs (SIGSTOP) past heartbeat-ttl and thaws them later (their
// late results must be fenced), and starts replacement jobs (some reusing a dead job's worker id, as a
// re-run job does) so that at least 3 are running. Then the run is let finish and the invariants checked.
//
//   CHAOS_SEED=<n> npm run chaos -- workers     replays the faults and the test list of a seed

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { Scenario, waitFor, useRedisServer } from '../e2e/harness.js';
import {
  type HistoryEntry, type Job, chaosSeed, checkInvariants, expectedWorkerExit, freezeJob, isLive, killJob, lastLine, printFigures, prng, sleep, thawJob,
} from './lib.js';

const runnerCmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
};

let redis: RedisServer;
useRedisServer((server) => (redis = server));

const CHAOS_MS = Number(process.env.CHAOS_MS ?? 60_000);
const TESTS = Number(process.env.CHAOS_TESTS ?? 360);
const HEARTBEAT_TTL = 2;
const MAX_ATTEMPTS = 4;
const POOL = 8;
const MIN_RUNNING = 3;

test('chaos: SIGKILLed, frozen and replaced workers over ~300 tests (360); nothing lost but to injected faults, nothing final twice', async () => {
  const seed = chaosSeed();
  console.log(`chaos seed ${seed} (replay with CHAOS_SEED=${seed} npm run chaos -- workers)`);
  const rnd = prng(seed);
  const s = new Scenario(redis, `chaos-${seed}`);

  // ~300 tests (360: about a minute of work for 8 jobs on 2 cores, so the faults cover the whole run):
  // mostly slow ones of 50-500 ms, plain passes, and a few failures.
  const tests: string[] = [];
  for (let i = 0; i < TESTS; i++) {
    const n = String(i).padStart(3, '0');
    const r = rnd.next();
    if (r < 0.02) tests.push(`chaos/fail-${n}`);
    else if (r < 0.8) tests.push(`chaos/slow${rnd.int(50, 500)}-${n}`);
    else tests.push(`chaos/pass-${n}`);
  }
  const failing = tests.filter((t) => t.includes('/fail-'));

  const t0 = Date.now();
  const controller = s.controller(tests, {
    // Short batches: a lost batch costs little.
    'batch-size': '2',
    'heartbeat-ttl': String(HEARTBEAT_TTL),
    'max-attempts': String(MAX_ATTEMPTS),
    'no-worker-timeout': '60',
    timeout: '300',
  });
  const jobs: Job[] = [];
  let nextId = 1;
  const faults = { kills: 0, freezes: 0, freezesPastTtl: 0, replacements: 0, idsReused: 0, frozenMsTotal: 0 };
  /** Every fault injected, by worker id and time (Date.now(): the same clock as Redis TIME here). */
  const faultLog: { id: string; kind: 'kill' | 'freeze'; at: number; ms?: number }[] = [];
  const spawn = (reuse?: string): Job => {
    const id = reuse ?? `c${nextId++}`;
    // A replacement drawn after the run completed waits no-worker-timeout for a new start of its run id
    // (an explicit run-id: README "Re-runs"), then ends as the run did: keep that short.
    const job: Job = { id, run: s.worker(id, { 'no-worker-timeout': '10' }), startedAt: Date.now(), killed: false, killedAt: 0, frozen: null, thawAt: 0 };
    jobs.push(job);
    return job;
  };
  for (let i = 0; i < POOL; i++) spawn();

  const alive = () => jobs.filter((j) => !j.killed && j.run.running());
  const running = () => alive().filter((j) => !j.frozen);
  const thaw = (j: Job) => {
    if (!j.frozen) return;
    thawJob(j.frozen);
    j.frozen = null;
  };

  // Let the workers register and start before the first fault.
  await waitFor('the first batches to run', () => s.events().runners.length >= 4, 30_000, 100);
  const chaosStart = Date.now();
  while (Date.now() - chaosStart < CHAOS_MS && controller.running()) {
    await sleep(rnd.int(250, 1200));
    const now = Date.now();
    for (const j of jobs) if (j.frozen && now >= j.thawAt) thaw(j);
    const r = rnd.next();
    if (r < 0.3) {
      // SIGKILL a job with its process tree (frozen ones too: a frozen machine may never come back).
      const candidates = alive();
      if (candidates.length) {
        const victim = rnd.pick(candidates);
        victim.killed = true;
        victim.killedAt = Date.now();
        victim.frozen = null;
        killJob(victim.run.pid);
        faults.kills++;
        faultLog.push({ id: victim.id, kind: 'kill', at: victim.killedAt });
      }
    } else if (r < 0.6) {
      // Freeze a running job for 1-6 s: mostly past heartbeat-ttl (reclaimed), sometimes not.
      const candidates = running();
      if (candidates.length > MIN_RUNNING) {
        const victim = rnd.pick(candidates);
        const ms = rnd.int(1000, 6000);
        victim.frozen = freezeJob(victim.run.pid);
        victim.thawAt = now + ms;
        faults.freezes++;
        faultLog.push({ id: victim.id, kind: 'freeze', at: now, ms });
        faults.frozenMsTotal += ms;
        if (ms > HEARTBEAT_TTL * 1000 + 1000) faults.freezesPastTtl++;
      }
    }
    // Replacements: keep at least MIN_RUNNING jobs running, and drift back to POOL jobs.
    while (running().length < MIN_RUNNING || (alive().length < POOL && rnd.chance(0.4))) {
      // A re-run job may take the id of one killed a while ago (not at once: runs are told apart by time).
      const dead = jobs.filter((j) => j.killed && Date.now() - j.killedAt > 2_000 && !jobs.some((k) => k !== j && k.id === j.id && !k.killed));
      const reuse = dead.length && rnd.chance(0.3) ? rnd.pick(dead).id : undefined;
      if (reuse) faults.idsReused++;
      spawn(reuse);
      faults.replacements++;
      if (alive().length >= POOL && running().length >= MIN_RUNNING) break;
    }
  }
  const chaosMs = Date.now() - chaosStart;
  for (const j of jobs) thaw(j);
  console.log(`chaos driver: ${JSON.stringify(faults)} over ${(chaosMs / 1000).toFixed(1)} s`);

  await waitFor('the controller to exit', () => controller.exit, 180_000, 200);
  const runMs = controller.exitedAt! - t0;
  // Every surviving worker notices completion within a few idle polls and heartbeats (one started after
  // it, within its no-worker-timeout of 10 s).
  await waitFor('every surviving worker to exit', () => jobs.every((j) => j.killed || !j.run.running()), 40_000, 100);
  for (const j of jobs) if (j.killed) expect(isLive(j.run.pid)).toBe(false);
  // No batch outlives its job (killed ones with their tree, the others at their end).
  const leftovers = s.events().runners.filter((r) => isLive(r.pid) && runnerCmdline(r.pid).includes('fake-runner'));
  expect(leftovers.map((r) => `${r.worker}:${r.pid}`), 'batch processes still alive').toEqual([]);
  // Late reports of reclaimed leases, as the thawed workers logged them.
  const fencedReports = jobs.reduce((n, j) => n + (j.run.output().match(/lease was reclaimed: late results/g)?.length ?? 0), 0);
  const reclaimedNotices = jobs.reduce((n, j) => n + (j.run.output().match(/was presumed dead/g)?.length ?? 0), 0);

  // Lost tests are allowed only when legitimately lost: checkInvariants requires exactly max-attempts runs
  // without a result, and here each of those runs must coincide with a fault the driver injected into
  // the job that held it (killed or frozen while it held the lease). The driver hits whatever job it picks,
  // so near the end of a run, when one or two tests are left, the same test can be hit 4 times in a row.
  const { report, state, figures } = await checkInvariants(s, tests, { maxAttempts: MAX_ATTEMPTS, complete: true, noLost: false });
  const injected = (h: HistoryEntry) =>
    faultLog.some((f) => f.id === h.w && f.at >= h.s - 250 && f.at <= h.e);
  const noResult = state.history.filter((h) => h.o === 'lost' || h.o === 'timeout');
  const unexplained = noResult.filter((h) => !injected(h));
  // No healthy worker was reclaimed (docs/reliability.md): every run without a result had a fault injected
  // into the job holding it.
  expect(unexplained.map((h) => `${h.t} in batch ${h.b} of ${h.w} (${h.s}..${h.e}, ${h.o}: "${h.m}")`), 'runs without a result and without an injected fault').toEqual([]);
  const lost = report.tests.filter((t) => t.status === 'lost');
  for (const t of lost) {
    for (const h of state.history.filter((x) => x.t === t.id && x.o === 'lost')) {
      expect(injected(h), `${t.id} ended lost: its run in batch ${h.b} of ${h.w} (${h.s}..${h.e}, "${h.m}") had no injected fault`).toBe(true);
    }
  }
  expect(report.status).toBe('failed');
  expect(report.counts).toMatchObject({ total: tests.length, failed: failing.length, notRun: 0, flaky: 0 });
  expect(report.counts.passed).toBe(tests.length - failing.length - lost.length);
  if (lost.length) console.log(`lost after ${MAX_ATTEMPTS} faulted runs each: ${lost.map((t) => t.id).join(', ')}`);
  // Exit statuses: the controller fails (the fail-* tests) and says why on its last line.
  expect(controller.exit).toEqual({ code: failing.length || lost.length ? 1 : 0, signal: null });
  if (failing.length || lost.length) expect(lastLine(controller)).toMatch(/failed|lost/);
  // Each worker the driver did not kill exits by the contract: 1 when a test it reported ended failed.
  for (const j of jobs.filter((x) => !x.killed)) {
    const want = expectedWorkerExit(j.id, j.startedAt, j.run.exitedAt ?? Date.now(), state, report);
    expect(j.run.exit, `worker ${j.id} (started ${j.startedAt})`).toEqual({ code: want, signal: null });
  }
  // The faults did happen: jobs were lost and leases reclaimed (and fenced) on the way.
  expect(faults.kills).toBeGreaterThan(0);
  expect(faults.freezes).toBeGreaterThan(0);
  expect(figures.reclaimedLeases).toBeGreaterThan(0);

  printFigures('workers', {
    seed, chaosSeconds: +(chaosMs / 1000).toFixed(1), runSeconds: +(runMs / 1000).toFixed(1), ...faults,
    jobs: jobs.length, fencedReports, reclaimedNotices, noResultRunsWithoutInjectedFault: unexplained.length, lostTests: lost.map((t) => t.id), ...figures,
  });
});

test('chaos: every worker-id given to two live jobs at once, one of each pair SIGKILLed and restarted under its id; 0 lost', async () => {
  const s = new Scenario(redis, 'twins');
  const tests = Array.from({ length: 120 }, (_, i) => `twins/slow${100 + ((i * 37) % 300)}-${String(i).padStart(3, '0')}`);
  const t0 = Date.now();
  const controller = s.controller(tests, { 'batch-size': '2', 'heartbeat-ttl': String(HEARTBEAT_TTL), 'max-attempts': '3' });
  // Three ids, each given to two jobs started together (a matrix whose worker-id repeats).
  const jobs = ['t1', 't1', 't2', 't2', 't3', 't3'].map((id) => ({ id, run: s.worker(id), killed: false }));
  await waitFor('a third of the run to be done', () => s.events().runners.length >= 20, 60_000, 100);
  // One job of the first pair is lost with its tree, and a re-run job takes its worker-id again at once.
  const victim = jobs[0];
  killJob(victim.run.pid);
  victim.killed = true;
  jobs.push({ id: victim.id, run: s.worker(victim.id), killed: false });

  await waitFor('the controller to exit', () => controller.exit, 120_000, 200);
  await waitFor('every surviving worker to exit', () => jobs.every((j) => j.killed || !j.run.running()), 30_000, 100);
  const { report, figures } = await checkInvariants(s, tests, { maxAttempts: 3, complete: true, noLost: true });
  expect(report.status).toBe('passed');
  expect(controller.exit, lastLine(controller)).toEqual({ code: 0, signal: null });
  for (const j of jobs.filter((x) => !x.killed)) expect(j.run.exit, `${j.id}: ${lastLine(j.run)}`).toEqual({ code: 0, signal: null });
  // Runs without a result: only the killed job's batch (one batch of batch-size 2).
  expect(figures.noResultRuns, 'runs without a result').toBeLessThanOrEqual(2);
  const renamed = jobs.map((j) => /this worker runs as (\S+)/.exec(j.run.output())?.[1]).filter(Boolean);
  expect(renamed.length, 'one job of each pair took another id').toBeGreaterThanOrEqual(3);
  printFigures('twins', { runSeconds: +(((controller.exitedAt ?? Date.now()) - t0) / 1000).toFixed(1), renamed, workers: report.workers.map((w) => w.id), ...figures });
});
