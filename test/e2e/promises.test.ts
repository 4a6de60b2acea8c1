// End-to-end: the README's promises about time, signals and outages, each on the bundled action. A worker
// waiting for a controller that never comes, GitHub's cancellation sequence, a Redis restart under a
// running worker, a test that pins the CPU, and clocks hours off.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { RedisServer } from '../helpers/redis-server.js';
import { type ActionRun, ROOT, isAlive, shq } from '../helpers/action.js';
import { Scenario, checkReport, lastLine, useRedisServer, waitFor } from './harness.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server), { everyKeyExpires: true });

const exitedWithin = (run: ActionRun, ms: number) => Promise.race([run.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

/**
 * What GitHub does to a cancelled step's node process: SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after
 * that. Returns the signals it took.
 */
async function githubCancel(run: ActionRun): Promise<NodeJS.Signals[]> {
  const sent: NodeJS.Signals[] = [];
  for (const [sig, wait] of [['SIGINT', 7_500], ['SIGTERM', 2_500], ['SIGKILL', 10_000]] as const) {
    sent.push(sig);
    process.kill(run.pid, sig);
    if (await exitedWithin(run, wait)) return sent;
  }
  return sent;
}

/** No run of any test was reclaimed or lost, and nobody said a worker had stopped heartbeating. */
function expectNoReclaim(s: Scenario, runs: ActionRun[]): void {
  const report = s.report();
  for (const t of report.tests) expect(t.runs.map((r) => r.outcome), t.id).toEqual(['passed']);
  for (const r of runs) {
    expect(r.output(), r.name).not.toContain('was presumed dead');
    expect(r.output(), r.name).not.toContain('stopped heartbeating');
  }
}

test('a worker whose controller never starts the run exits 1 after its no-worker-timeout, saying so', async () => {
  const s = new Scenario(redis, 'nocontroller');
  const worker = s.worker('w1', { 'no-worker-timeout': '2' });
  await waitFor('the worker to exit', () => worker.exit, 30_000, 100);
  expect(worker.exit, worker.output()).toEqual({ code: 1, signal: null });
  expect(worker.exitedAt! - worker.startedAt, 'waited its no-worker-timeout').toBeGreaterThanOrEqual(2_000);
  expect(worker.output()).toContain(`Waiting for the controller to start run ${s.runId} (up to 2 s)...`);
  expect(lastLine(worker.output())).toBe(`::error::the controller did not start run ${s.runId} within no-worker-timeout (2 s)`);
  expect(s.events().runners, 'nothing ran').toEqual([]);
});

test("GitHub's cancellation of a worker (SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s later): it exits 1 on the SIGINT, its batch handed back", { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'ghcancel-worker');
  // A test that ignores SIGINT and SIGTERM and leaves a grandchild: only the worker's kill of the batch's
  // process group ends it. Handed back, it runs again elsewhere and times out there (max-attempts 2).
  const tests = ['g/hang-1'];
  const controller = s.controller(tests, { 'batch-size': '1', 'heartbeat-ttl': '30', 'batch-timeout': '3', 'max-attempts': '2' });
  const w1 = s.worker('w1');
  const held = await s.startedBy('w1', (id) => id === 'g/hang-1');
  await waitFor('the hang to spawn its grandchild', () => s.events().byPid(held.pid)?.grandchildren.length, 10_000);
  const t0 = Date.now();
  const sent = await githubCancel(w1);
  expect(sent, 'the worker exited on the SIGINT, before GitHub would send SIGTERM').toEqual(['SIGINT']);
  expect(w1.exitedAt! - t0, 'within 5 s').toBeLessThan(5_000);
  expect(w1.exit).toEqual({ code: 1, signal: null });
  expect(w1.output().split('\n')).toContain('::error::worker w1 cancelled by SIGINT');
  const tree = () => [held.pid, ...(s.events().byPid(held.pid)?.grandchildren ?? [])];
  await waitFor('the batch tree to be gone', () => tree().every((p) => !isAlive(p)), 2_000).catch(() => undefined);
  expect(tree().filter(isAlive), 'batch processes left').toEqual([]);

  // Handed back at once, not after heartbeat-ttl (30 s): a second worker takes it up.
  const w2 = s.worker('w2');
  await s.startedBy('w2', (id) => id === 'g/hang-1', 15_000);
  await waitFor('the controller to exit', () => controller.exit, 30_000, 100);
  await s.allExited(15_000);
  const report = s.report();
  checkReport(report, s, tests);
  expect(s.test(report, 'g/hang-1').runs.map((r) => [r.worker, r.outcome, r.message])).toEqual([
    ['w1', 'lost', 'worker cancelled'],
    ['w2', 'timeout', expect.any(String)],
  ]);
  expect(report.workers.find((w) => w.id === 'w1')?.state).toBe('cancelled');
  expect(controller.exit).toEqual({ code: 1, signal: null });
  expect(w2.exit).toEqual({ code: 1, signal: null });
});

test("GitHub's cancellation of the controller: it exits 1 on the SIGINT with its report written, and the workers stop", { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'ghcancel-controller');
  const tests = ['h/slow30000-1', 'h/slow30000-2', 'h/pass-3'];
  const controller = s.controller(tests, { 'batch-size': '1' });
  const workers = [s.worker('w1'), s.worker('w2')];
  await waitFor('both workers to start a slow test', () => new Set(s.events().runners.filter((r) => r.started.length).map((r) => r.worker)).size === 2, 20_000);
  const sent = await githubCancel(controller);
  expect(sent, 'the controller exited on the SIGINT, before GitHub would send SIGTERM').toEqual(['SIGINT']);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  expect(lastLine(controller.output())).toBe('::error::run aborted: controller cancelled by SIGINT; 3 tests not run');
  checkReport(s.report(), s, tests);
  expect(controller.outputs()['not-run']).toBe('3');
  await s.allExited(20_000);
  for (const w of workers) {
    expect(w.exit, w.name).toEqual({ code: 1, signal: null });
    expect(lastLine(w.output()), w.name).toBe('::error::run aborted by the controller: controller cancelled by SIGINT');
  }
  expect(s.events().pids.filter(isAlive), 'batch processes left').toEqual([]);
});

test('Redis stopped for 5 s and restarted on the same port: the running worker and the controller carry on, nothing is lost', { timeout: 120_000 }, async () => {
  // Its own Redis, with every write on disk, so that a restart keeps the run (README: a 60 s reconnect window).
  const durable = await RedisServer.start(['--appendonly', 'yes', '--appendfsync', 'always']);
  try {
    const s = new Scenario(durable, 'outage');
    const tests = Array.from({ length: 8 }, (_, i) => `o/slow1500-${i + 1}`);
    // heartbeat-ttl 30: the outage is shorter, so nobody may be presumed dead.
    const controller = s.controller(tests, { 'batch-size': '1', 'heartbeat-ttl': '30' });
    const worker = s.worker('w1');
    await waitFor('the worker to be in its third batch', () => s.events().started('w1').length >= 3, 30_000);
    await durable.stop('SIGKILL');
    const down = Date.now();
    // The outage falls in the middle of the run: the worker has batches to report and claim through it.
    expect(s.events().started('w1').length, 'batches started before the outage').toBeLessThan(tests.length - 2);
    await new Promise((r) => setTimeout(r, 5_000)); // the outage itself
    await durable.restart();
    const outageMs = Date.now() - down;
    expect(worker.running() && controller.running(), 'both still running after the outage').toBe(true);
    await waitFor('the controller to exit', () => controller.exit, 90_000, 100);
    await s.allExited(30_000);
    expect(outageMs).toBeGreaterThanOrEqual(5_000);
    expect(controller.exit, controller.output()).toEqual({ code: 0, signal: null });
    expect(worker.exit, worker.output()).toEqual({ code: 0, signal: null });
    checkReport(s.report(), s, tests);
    expect(s.report().status).toBe('passed');
    expectNoReclaim(s, [controller, worker]);
  } finally {
    await durable.close();
  }
});

test('a test that pins the CPU for 3 × heartbeat-ttl, on the one CPU its worker may use: the worker is not reaped', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'cpubound');
  const tests = ['cpu/busy-1', 'cpu/busy-2'];
  const busyMs = 9_000;
  const busy = `${shq(process.execPath)} -e ${shq(`const end = Date.now() + ${busyMs}; while (Date.now() < end) {}`)}`;
  const worker = s.worker('w1', { command: busy });
  // The worker and every batch it starts share one CPU (affinity is inherited), so the busy loop competes
  // with the worker's own heartbeats.
  await waitFor('the worker to wait for the controller', () => worker.output().includes('Waiting for the controller'), 20_000);
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(worker.pid)], { stdio: 'ignore' });
  expect(/Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${worker.pid}/status`, 'utf8'))?.[1], 'the worker runs on CPU 0 only').toBe('0');
  const controller = s.controller(tests, { 'batch-size': '1', 'heartbeat-ttl': '3' });
  await waitFor('the controller to exit', () => controller.exit, 80_000, 100);
  await s.allExited(15_000);
  expect(controller.exit, controller.output()).toEqual({ code: 0, signal: null });
  expect(worker.exit).toEqual({ code: 0, signal: null });
  checkReport(s.report(), s, tests);
  expectNoReclaim(s, [controller, worker]);
  for (const t of s.report().tests) expect(t.runs[0].durationMs, `${t.id} ran busy for longer than heartbeat-ttl`).toBeGreaterThanOrEqual(busyMs);
});

test('clocks hours off on the controller and the workers change nothing: all times come from Redis', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'skew');
  const tests = Array.from({ length: 12 }, (_, i) => `k/slow${100 + 50 * i}-${i + 1}`);
  const skew = (ms: number) => ({ NODE_OPTIONS: `--require ${join(ROOT, 'test', 'fixtures', 'clock-skew.cjs')}`, CLOCK_SKEW_MS: String(ms) });
  const hour = 3_600_000;
  // The preload shifts the clock of a node process started as the action is.
  const shifted = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(Date.now()))'], { env: { ...process.env, ...skew(7 * hour) } }).toString());
  expect(Math.round((shifted - Date.now()) / hour)).toBe(7);
  // heartbeat-ttl 3 and timeout 60: a heartbeat or a deadline taken from a local clock would misfire.
  const controller = s.controller(tests, { 'batch-size': '2', 'heartbeat-ttl': '3', timeout: '60' }, skew(7 * hour));
  const workers = [s.worker('w1', {}, skew(-5 * hour)), s.worker('w2', {}, skew(3 * hour)), s.worker('w3')];
  await waitFor('the controller to exit', () => controller.exit, 60_000, 100);
  await s.allExited(15_000);
  expect(controller.exit, controller.output()).toEqual({ code: 0, signal: null });
  for (const w of workers) expect(w.exit, w.name).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('passed');
  expectNoReclaim(s, [controller, ...workers]);
  // Durations are differences of Redis times (or of one process's clock), never of two machines' clocks.
  expect(report.durationMs).toBeGreaterThan(0);
  expect(report.durationMs).toBeLessThan(60_000);
  for (const t of report.tests) for (const r of t.runs) expect(r.durationMs, t.id).toBeLessThan(60_000);
  for (const w of report.workers) {
    expect(w.busyMs, w.id).toBeGreaterThanOrEqual(0);
    expect(w.busyMs, w.id).toBeLessThan(60_000);
  }
  expect(controller.summary()).not.toMatch(/\d+ h\b/);
});
