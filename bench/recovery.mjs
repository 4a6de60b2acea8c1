// Part 3: recovery latency. The bundled action (dist/index.js) runs a controller and 2 workers, A and B,
// over tests of 20 s each (batch-size 2, heartbeat-ttl 5 s). Once both hold a batch, worker A is
//   - SIGKILLed: its node process and its batch's process group (a runner lost with its machine), or
//   - sent SIGINT: its node process only (GitHub's cancellation; the worker kills its batch itself).
// Measured: the time from the kill until every test of A's batch is claimable again, i.e. back in the
// run's requeue list (polled every 5 ms); B is busy, so nothing claims them meanwhile. For SIGKILL the
// heartbeat key's remaining TTL at the kill (PTTL) splits it into "waiting for the key to expire" and
// "waiting for the controller's next tick" (reap runs once a second).
import { join } from 'node:path';
import { runKeys } from './queue.mjs';
import {
  DIST, SLEEPER, actionEnv, killGroup, pass, rng, s2, sleep, startProcess, startRedis, table, tempDir, trackGroup, writeFile, quantile,
} from './lib.mjs';
import { createWriteStream, readFileSync, existsSync } from 'node:fs';

const TEST_MS = 20_000;

function readLog(path) {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
}

/** Starts dist/index.js with the given inputs; its output goes to a file in dir. */
function action(inputs, dir, name, env) {
  const out = createWriteStream(join(dir, `${name}.log`));
  const p = startProcess(process.execPath, [DIST], { env: actionEnv(inputs, dir, env), stdio: ['ignore', 'pipe', 'pipe'] });
  p.proc.stdout.pipe(out);
  p.proc.stderr.pipe(out);
  return p;
}

async function trial(srv, kind, ttl, delayMs, n) {
  const dir = tempDir(`recovery-${kind}-${n}`);
  const ids = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => `rec/${x}.test`);
  const durations = writeFile(join(dir, 'durations.tsv'), ids.map((id) => `${id}\t${TEST_MS}\n`).join(''));
  const log = join(dir, 'batches.log');
  const runId = `rec-${kind}-${n}-${Date.now()}`;
  const queue = 'recovery';
  const keys = runKeys('local', queue, runId);
  const common = { 'redis-url': srv.url, 'run-id': runId, queue, 'working-directory': dir };
  const env = { BENCH_DURATIONS: durations, BENCH_LOG: log, BENCH_C_MS: '0' };
  const procs = [
    action({ ...common, mode: 'controller', tests: ids.join('\n'), 'batch-size': 2, 'heartbeat-ttl': ttl, timings: 'false', 'no-worker-timeout': 60, 'report-output': join(dir, 'report.json') }, dir, 'controller', env),
  ];
  const worker = (id) => action({ ...common, mode: 'worker', 'worker-id': id, command: `bash ${SLEEPER} - {tests}` }, dir, `worker-${id}`, env);
  const A = worker('A');
  procs.push(A, worker('B'));
  const redis = srv.client('bench-recovery');
  try {
    // Wait until both workers run a batch; A's batch: its process group and its tests.
    let a;
    for (const until = Date.now() + 30_000; ; await sleep(20)) {
      const begun = readLog(log).filter((l) => l[0] === 'begin');
      for (const l of begun) trackGroup(Number(l[2]));
      a = begun.find((l) => l[3] === 'A');
      if (a && begun.some((l) => l[3] === 'B')) break;
      if (Date.now() > until) throw new Error(`recovery: the workers did not start their batches (see ${dir})`);
    }
    const held = a.slice(4);
    await sleep(delayMs); // a random point of the heartbeat cycle
    const t0 = performance.now();
    if (kind === 'SIGKILL') {
      killGroup(A.pid, 'SIGKILL');
      killGroup(Number(a[2]), 'SIGKILL');
    } else {
      process.kill(A.pid, 'SIGINT');
    }
    const pttl = kind === 'SIGKILL' ? await redis.pttl(`${keys.hbPrefix}A`) : null;
    for (const until = Date.now() + 30_000; ; await sleep(5)) {
      const requeue = await redis.lrange(keys.requeue, 0, -1);
      if (held.every((id) => requeue.includes(id))) break;
      if (Date.now() > until) throw new Error(`recovery: A's tests never came back to the requeue (see ${dir})`);
    }
    const ms = performance.now() - t0;
    return { kind, ms, pttl, tests: held.length };
  } finally {
    for (const p of procs) killGroup(p.pid, 'SIGKILL');
    for (const l of readLog(log)) if (l[0] === 'begin') killGroup(Number(l[2]), 'SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    redis.disconnect();
  }
}

export async function runRecovery({ quick = false, trials = quick ? 1 : 3, ttl = 5, seed = 1, log = console.log } = {}) {
  const srv = await startRedis();
  const rand = rng(seed);
  const hbEveryMs = Math.max(200, (ttl * 1000) / 3);
  log(`\n## 3. Recovery latency: dist/index.js, controller + 2 workers, heartbeat-ttl ${ttl} s, ${trials} trial${trials > 1 ? 's' : ''} each\n`);
  const res = [];
  try {
    for (const kind of ['SIGKILL', 'SIGINT']) {
      for (let i = 0; i < trials; i++) {
        const r = await trial(srv, kind, ttl, 300 + Math.round(rand() * hbEveryMs), i + 1);
        res.push(r);
        log(`  ${kind} trial ${i + 1}: ${r.tests} tests claimable again after ${s2(r.ms)} s${r.pttl !== null ? ` (heartbeat key had ${r.pttl} ms left)` : ''}`);
      }
    }
  } finally {
    await srv.stop();
  }
  const rows = [];
  const goals = [];
  for (const [kind, limit, what] of [['SIGKILL', ttl * 1000 + 1000, `heartbeat-ttl + 1 s = ${ttl + 1} s`], ['SIGINT', 1000, '1 s']]) {
    const xs = res.filter((r) => r.kind === kind);
    const ms = xs.map((r) => r.ms);
    const worst = Math.max(...ms);
    const split = kind === 'SIGKILL'
      ? `key expiry ${xs.map((r) => s2(r.pttl)).join(' / ')} s + reap ${xs.map((r) => s2(r.ms - r.pttl)).join(' / ')} s`
      : 'handed back by the worker';
    rows.push([kind, xs.length, s2(Math.min(...ms)), s2(quantile(ms, 0.5)), s2(worst), `${ttl} s`, split, `<= ${what}`, pass(worst <= limit)]);
    goals.push([`${kind} to claimable within ${what}`, worst <= limit, `worst ${s2(worst)} s`]);
  }
  const text = table(['signal', 'trials', 'min s', 'median s', 'max s', 'heartbeat-ttl', 'where the time goes (per trial)', 'goal', ''], rows);
  log(`\n${text}\n`);
  return { res, rows, goals, text };
}
