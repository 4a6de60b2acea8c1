// Chaos 4: the network between the actions and Redis, through a TCP proxy written here (lib.ts ChaosProxy)
// that adds latency, pauses all forwarding, and cuts every connection.
//  - a run of a controller and 4 workers, all through the proxy with 10 ms of one-way latency: the proxy
//    is broken twice and paused 3 s (past heartbeat-ttl) once; no test is ever held under two leases at
//    once, nothing is lost, and the run completes within a bounded time;
//  - a reply lost to a cut connection: Redis ran the command, the client never hears back and its
//    Redis client resends the command on the new connection (ioredis resends unanswered commands). Every
//    script of the queue must survive being run twice that way.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { PRELUDE } from '../../src/queue/scripts.js';
import { ROOT } from '../helpers/action.js';
import { Scenario, useRedisServer, waitFor } from '../e2e/harness.js';
import { ChaosProxy, checkInvariants, doneCount, expectedWorkerExit, lastLine, printFigures, sleep } from './lib.js';

let redis: RedisServer;
const proxies: ChaosProxy[] = [];
useRedisServer((server) => (redis = server));
afterAll(async () => {
  for (const p of proxies) await p.close();
});

async function proxy(): Promise<ChaosProxy> {
  const p = await ChaosProxy.start(redis.port);
  proxies.push(p);
  return p;
}

test('through a proxy with latency, broken twice and paused 3 s: no double claim, nothing lost, the run completes in bounded time', async () => {
  const p = await proxy();
  p.latencyMs = 10;
  const s = new Scenario(redis, 'proxy');
  const tests = Array.from({ length: 120 }, (_, i) =>
    i % 40 === 7 ? `net/fail-${i}` : i % 4 === 0 ? `net/pass-${i}` : `net/slow${100 + ((i * 53) % 300)}-${i}`);
  const failing = tests.filter((t) => t.includes('/fail-'));
  const via = { 'redis-url': p.url };
  const t0 = Date.now();
  const controller = s.controller(tests, { ...via, 'batch-size': '3', 'heartbeat-ttl': '3', 'max-attempts': '3', timeout: '120' });
  const workers = ['w1', 'w2', 'w3', 'w4'].map((id) => s.worker(id, via));
  const startedAt = Date.now();

  await waitFor('some progress', async () => (await doneCount(s)) >= 20, 60_000, 100);
  const cut1 = p.break();
  await waitFor('progress after the first break', async () => (await doneCount(s)) >= 45, 60_000, 100);
  p.pause();
  await sleep(3_000);
  p.resume();
  await waitFor('progress after the pause', async () => (await doneCount(s)) >= 70, 60_000, 100);
  const cut2 = p.break();

  await waitFor('the controller to exit', () => controller.exit, 60_000, 200);
  const runMs = controller.exitedAt! - t0;
  await s.allExited(20_000);
  expect(runMs, 'the run completes in bounded time').toBeLessThan(60_000);
  const { report, state, figures } = await checkInvariants(s, tests, { maxAttempts: 3, complete: true, noLost: true });
  expect(report.counts).toMatchObject({ total: tests.length, failed: failing.length, lost: 0, notRun: 0 });
  expect(controller.exit).toEqual({ code: 1, signal: null });
  expect(lastLine(controller)).toMatch(/failed/);
  for (const w of workers) {
    const id = w.name.replace('worker ', '');
    expect(w.exit, `${w.name}: ${lastLine(w)}`).toEqual({ code: expectedWorkerExit(id, startedAt, w.exitedAt!, state, report), signal: null });
  }
  printFigures('proxy', { latencyMs: p.latencyMs, connectionsCutByBreaks: [cut1, cut2], ...p.stats, runSeconds: +(runMs / 1000).toFixed(1), workers: 4, ...figures });
});

// ---------------------------------------------------------------------------------------------------
// A reply lost to a cut connection, for each script that a run sends through a worker or the controller.

/** The SHA1 ioredis sends in EVALSHA for a script (the PRELUDE prepended, as src/queue/scripts.ts does). */
function sha(name: string): string {
  const prelude = PRELUDE.map((p) => readFileSync(join(ROOT, 'dist', `${p}.lua`), 'utf8')).join('\n');
  return createHash('sha1').update(`${prelude}\n${readFileSync(join(ROOT, 'dist', `${name}.lua`), 'utf8')}`).digest('hex');
}

interface LostReplyCase {
  script: string;
  /** Also required in the same chunk the client sends (to pick one call among many). */
  marker?: string;
  why: string;
}

const CASES: LostReplyCase[] = [
  { script: 'seed', why: 'the controller seeds in one pipeline; a resent seed must not queue a test twice' },
  { script: 'start', why: 'a resent start must not fail the controller' },
  { script: 'claim', why: 'a resent claim must return the batch already held, not a second one' },
  { script: 'report', marker: '"o":"failed"', why: 'a resent report of a failed test must still tell the worker (exit 1)' },
  { script: 'register', why: 'a resent register must not drop anything' },
];

for (const c of CASES) {
  test(`a lost reply to ${c.script} (Redis ran it, the client resends it): ${c.why}`, async () => {
    const p = await proxy();
    const s = new Scenario(redis, `lost-${c.script}`);
    const tests = [
      ...Array.from({ length: 24 }, (_, i) => `lr/pass-${String(i).padStart(2, '0')}`),
      'lr/fail-one',
      ...Array.from({ length: 6 }, (_, i) => `lr/slow300-${i}`),
    ];
    const hash = sha(c.script);
    // ioredis sends a script's first call on a connection as EVAL <source>, later ones as EVALSHA <sha>.
    const header = `-- ${c.script}.lua:`;
    p.loseReplyOnce((data) => (data.includes(hash) || data.includes(header)) && (!c.marker || data.includes(c.marker)));
    const via = { 'redis-url': p.url };
    // Fixed batches (timings off); one worker, so that its exit status says what it saw.
    const t0 = Date.now();
    const controller = s.controller(tests, { ...via, 'batch-size': '8', 'heartbeat-ttl': '3', timeout: '40', timings: 'false' });
    const worker = s.worker('w1', via);
    await waitFor('the controller to exit', () => controller.exit, 90_000, 200);
    await s.allExited(20_000);
    expect(p.stats.repliesLost, `the ${c.script} reply was dropped`).toBe(1);
    expect(controller.exit, `controller: ${lastLine(controller)}`).toEqual({ code: 1, signal: null });
    expect(lastLine(controller), 'the controller fails for the failing test only').toMatch(/1 test failed: lr\/fail-one$/);
    const { report, state } = await checkInvariants(s, tests, { maxAttempts: 3, complete: true, noLost: true });
    expect(report.counts).toMatchObject({ total: tests.length, failed: 1, passed: tests.length - 1 });
    // The worker ran the failing test, and its report made it final: it must exit 1 (README, "Exit status").
    expect(expectedWorkerExit('w1', t0, worker.exitedAt!, state, report)).toBe(1);
    expect(worker.exit, `worker: ${lastLine(worker)}`).toEqual({ code: 1, signal: null });
    printFigures(`lost-reply-${c.script}`, { runSeconds: +((controller.exitedAt! - t0) / 1000).toFixed(1), ...p.stats });
  });
}
