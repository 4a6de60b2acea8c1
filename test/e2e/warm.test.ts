// End-to-end: the vitest preset's warm runner and measured costs, through the bundled action, on a suite
// generated here with the cost structure of real ones: each file's cost is at its import (a module-level
// busy-wait, which JUnit's times leave out), its test is cheap. Each file logs "<batch>\t<id>\t<ppid>"
// to $FIXTURE_LOG when imported: under vitest's forks pool the parent is the vitest process that ran it,
// the warm runner itself for a batch it ran.
//
// The promises of a batch hold with a warm runner: batch-timeout kills the runner's group and a new one
// serves the next batch, SIGINT kills it at once and hands the batch back, a crashed runner takes only
// its batch; results stay per test (test/e2e/presets.test.ts: a failing file among passing ones).

import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { ROOT, isAlive, tempDir } from '../helpers/action.js';
import { runKeys } from '../../src/queue/keys.js';
import type { HistoryEntry } from '../../src/types.js';
import { Scenario, checkReport, waitFor, useRedisServer } from './harness.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server));

interface GenFile {
  id: string;
  /** Busy ms at import. */
  costMs: number;
  /** On attempt 1 only: hang at import, or SIGKILL the process that runs the file (the warm runner). */
  trap?: 'hang' | 'crash';
}

/** A vitest suite in a fresh folder (node_modules: this repository's), and the path of its log. */
function generateSuite(files: GenFile[]): { dir: string; log: string } {
  const dir = tempDir('shardless-gen-');
  const log = join(dir, 'fixture.log');
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), '{ "private": true, "type": "module" }\n');
  writeFileSync(join(dir, 'vitest.config.mjs'), `export default { cacheDir: ${JSON.stringify(join(dir, '.vite'))}, test: { pool: 'forks' } };\n`);
  for (const f of files) {
    mkdirSync(join(dir, f.id, '..'), { recursive: true });
    writeFileSync(join(dir, f.id), [
      "import { appendFileSync } from 'node:fs';",
      "import { test } from 'vitest';",
      `appendFileSync(process.env.FIXTURE_LOG, process.env.SHARDLESS_BATCH + '\\t' + ${JSON.stringify(f.id)} + '\\t' + process.ppid + '\\n');`,
      "const first = process.env.SHARDLESS_ATTEMPT === '1';",
      f.trap === 'hang' ? 'if (first) for (;;) {}' : '',
      f.trap === 'crash' ? "if (first) process.kill(process.ppid, 'SIGKILL');" : '',
      `const t0 = Date.now();`,
      `while (Date.now() - t0 < ${f.costMs}) {} // the file's cost: at import, where JUnit does not look`,
      "test('cheap', () => {});",
      '',
    ].join('\n'));
  }
  return { dir, log };
}

/** Each line of the log: batch, id, the pid of the vitest process that ran the file. */
function logLines(log: string): { batch: string; id: string; runner: number }[] {
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  return text.split('\n').filter(Boolean).map((l) => {
    const [batch, id, ppid] = l.split('\t');
    return { batch, id, runner: Number(ppid) };
  });
}

async function history(s: Scenario): Promise<HistoryEntry[]> {
  const c = redis.client();
  try {
    return (await c.lrange(runKeys('local', s.queue, s.runId).history, 0, -1)).map((e) => JSON.parse(e) as HistoryEntry);
  } finally {
    c.disconnect();
  }
}

/** Each lease id: whether its record says it was a warm runner's first batch (r). */
async function leaseFlags(s: Scenario): Promise<Map<string, boolean>> {
  const c = redis.client();
  try {
    const all = await c.hgetall(runKeys('local', s.queue, s.runId).leases);
    // Lease ids are numbers ('_' holds the hash's TTL from the start).
    const leases = Object.entries(all).filter(([id]) => /^\d+$/.test(id));
    return new Map(leases.map(([id, v]) => [id, (JSON.parse(v) as { r?: boolean }).r === true]));
  } finally {
    c.disconnect();
  }
}

function start(s: Scenario, dir: string, log: string, controller: Record<string, string>, workers = ['w1']) {
  const inputs = { runner: 'vitest', 'working-directory': dir };
  // A long heartbeat-ttl: vitest's start may load both cores, and no worker is meant to be presumed dead.
  const c = s.controller([], { ...inputs, 'heartbeat-ttl': '20', ...controller });
  const ws = workers.map((id) => s.worker(id, { ...inputs, command: '' }, { FIXTURE_LOG: log }));
  return { controller: c, workers: ws };
}

/** Runs the generated suite to the end on one worker; the run must pass with every file once. */
async function passes(s: Scenario, files: GenFile[], dir: string, log: string, controller: Record<string, string>) {
  const { controller: c } = start(s, dir, log, controller);
  await waitFor('the controller to exit', () => c.exit, 100_000, 100);
  await s.allExited(15_000);
  expect(c.exit).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, files.map((f) => f.id));
  expect(report.counts.passed).toBe(files.length);
  return report;
}

test('learning: each file’s measured cost (c) is its import’s busy time, not its JUnit time; one warm runner serves several batches', { timeout: 120_000 }, async () => {
  const files: GenFile[] = Array.from({ length: 24 }, (_, i) => ({ id: `gen/f${String(i).padStart(2, '0')}.test.js`, costMs: 150 + 25 * (i % 12) }));
  const { dir, log } = generateSuite(files);
  const s = new Scenario(redis, 'warm-learn');
  const { controller } = start(s, dir, log, { 'batch-size': '3', timings: 'false' }, ['w1', 'w2']);
  await waitFor('the controller to exit', () => controller.exit, 100_000, 100);
  await s.allExited(15_000);

  expect(controller.exit).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, files.map((f) => f.id));
  expect(report.counts.passed).toBe(files.length);

  const runs = await history(s);
  for (const f of files) {
    const [r] = runs.filter((e) => e.t === f.id);
    expect(r, f.id).toMatchObject({ o: 'passed', j: true });
    // JUnit's time is the cheap test's; the measured cost holds the import's busy-wait, plus a little.
    expect(r.d, `${f.id}: JUnit time`).toBeLessThan(f.costMs / 2);
    expect(r.c, `${f.id}: measured cost`).toBeGreaterThanOrEqual(f.costMs);
    expect(r.c, `${f.id}: measured cost`).toBeLessThan(f.costMs + 2_000);
  }

  // Warm: each worker's batches ran in fewer vitest processes than batches, one of them serving several.
  const lines = logLines(log);
  const batchesOf = new Map<number, Set<string>>();
  for (const l of lines) batchesOf.set(l.runner, (batchesOf.get(l.runner) ?? new Set()).add(l.batch));
  const batches = new Set(lines.map((l) => l.batch)).size;
  expect(batchesOf.size, 'vitest processes').toBeLessThan(batches);
  expect(Math.max(...[...batchesOf.values()].map((b) => b.size)), 'batches served by one process').toBeGreaterThanOrEqual(3);

  // The lease of each runner's first batch says so (its wall carries vitest's start, which the cost
  // model leaves out); no other lease does. The worker starts its runner before the first claim.
  const flags = await leaseFlags(s);
  for (const [runner, ids] of batchesOf) {
    const first = Math.min(...[...ids].map(Number));
    for (const id of ids) expect(flags.get(id), `lease ${id} of runner ${runner}`).toBe(Number(id) === first);
  }
});

test('batch-timeout kills the warm runner’s group; the next batch gets a new one; batch-mates re-run alone and pass', { timeout: 120_000 }, async () => {
  const files: GenFile[] = [
    { id: 'a1.test.js', costMs: 50 }, { id: 'a2.test.js', costMs: 50 }, { id: 'a3.test.js', costMs: 50 },
    { id: 'b0-hang.test.js', costMs: 50, trap: 'hang' }, { id: 'b1.test.js', costMs: 50 }, { id: 'b2.test.js', costMs: 50 },
    { id: 'c1.test.js', costMs: 50 }, { id: 'c2.test.js', costMs: 50 }, { id: 'c3.test.js', costMs: 50 },
  ];
  const { dir, log } = generateSuite(files);
  const s = new Scenario(redis, 'warm-timeout');
  // timings off: batches of 3 in the listing's order: a*, then b* with the hang, then c*.
  const report = await passes(s, files, dir, log, { 'batch-size': '3', timings: 'false', 'batch-timeout': '10' });
  for (const id of ['b0-hang.test.js', 'b1.test.js', 'b2.test.js']) {
    expect(s.test(report, id).runs.map((r) => [r.outcome, r.isolated]), id).toEqual([['timeout', false], ['passed', true]]);
  }
  const lines = logLines(log);
  const runnerOf = (id: string) => lines.find((l) => l.id === id)!.runner;
  // The a* and the b* batch shared a warm runner, killed with its group; c* ran on a new one.
  expect(runnerOf('b0-hang.test.js')).toBe(runnerOf('a1.test.js'));
  expect(runnerOf('c1.test.js')).not.toBe(runnerOf('a1.test.js'));
  expect(isAlive(runnerOf('a1.test.js')), 'the timed-out runner').toBe(false);
});

test('a crashed warm runner takes only its batch: the next one runs on a new runner, the crashed batch’s tests re-run alone', { timeout: 120_000 }, async () => {
  const files: GenFile[] = [
    { id: 'a1.test.js', costMs: 50 }, { id: 'a2.test.js', costMs: 50 }, { id: 'a3.test.js', costMs: 50 },
    { id: 'b0-crash.test.js', costMs: 50, trap: 'crash' }, { id: 'b1.test.js', costMs: 300 }, { id: 'b2.test.js', costMs: 50 },
    { id: 'c1.test.js', costMs: 50 }, { id: 'c2.test.js', costMs: 50 }, { id: 'c3.test.js', costMs: 50 },
  ];
  const { dir, log } = generateSuite(files);
  const s = new Scenario(redis, 'warm-crash');
  const report = await passes(s, files, dir, log, { 'batch-size': '3', timings: 'false' });
  for (const id of ['a1.test.js', 'c1.test.js']) expect(s.test(report, id).runs.map((r) => r.outcome), id).toEqual(['passed']);
  for (const id of ['b0-crash.test.js', 'b1.test.js', 'b2.test.js']) {
    expect(s.test(report, id).runs.map((r) => [r.outcome, r.isolated]), id).toEqual([['lost', false], ['passed', true]]);
  }
  const lines = logLines(log);
  const runnerOf = (id: string) => lines.find((l) => l.id === id)!.runner;
  expect(runnerOf('c1.test.js')).not.toBe(runnerOf('a1.test.js'));
  // The re-run alone went through the cold command, whose reporter measured its cost too.
  const [cold] = (await history(s)).filter((e) => e.t === 'b1.test.js' && e.i);
  expect(cold.c, 'the cold run’s measured cost').toBeGreaterThanOrEqual(300);
});

test('SIGINT to a worker mid-batch: its warm runner’s group is killed and the batch handed back within 1 s', { timeout: 120_000 }, async () => {
  const files: GenFile[] = [
    { id: 'a1.test.js', costMs: 50 }, { id: 'a2.test.js', costMs: 50 },
    { id: 'b0-hang.test.js', costMs: 50, trap: 'hang' }, { id: 'b1.test.js', costMs: 50 },
  ];
  const { dir, log } = generateSuite(files);
  const s = new Scenario(redis, 'warm-sigint');
  // heartbeat-ttl 30 s: only a hand-back, not a reap, gets the batch back within the test's deadlines.
  const { controller, workers: [w1] } = start(s, dir, log, { 'batch-size': '2', timings: 'false', 'heartbeat-ttl': '30' });
  await waitFor('w1 to start the hang', () => logLines(log).find((l) => l.id === 'b0-hang.test.js'), 60_000, 50);
  const runner = logLines(log).find((l) => l.id === 'b0-hang.test.js')!.runner;
  expect(logLines(log).find((l) => l.id === 'a1.test.js')!.runner, 'the hang runs on the warm runner').toBe(runner);

  const t0 = Date.now();
  process.kill(w1.pid, 'SIGINT');
  const handedBack = () => history(s).then((h) => h.some((e) => e.t === 'b0-hang.test.js' && e.w === 'w1' && e.o === 'lost'));
  await waitFor('the batch to be handed back', handedBack, 1_000, 20);
  expect(Date.now() - t0, 'handed back within 1 s').toBeLessThan(1_000);
  await waitFor('the warm runner to be gone', () => !isAlive(runner), 1_000, 20);
  await waitFor('w1 to exit', () => w1.exit, 5_000);
  expect(w1.exit).toEqual({ code: 1, signal: null });

  // A second worker finishes the run: the handed-back tests re-run alone (cold, attempt 2: no hang).
  s.worker('w2', { runner: 'vitest', 'working-directory': dir, command: '' }, { FIXTURE_LOG: log });
  await waitFor('the controller to exit', () => controller.exit, 60_000, 100);
  await s.allExited(15_000);
  expect(controller.exit).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, files.map((f) => f.id));
  expect(s.test(report, 'b0-hang.test.js').runs.map((r) => [r.worker, r.outcome])).toEqual([['w1', 'lost'], ['w2', 'passed']]);
});
