// Part 2: queue throughput. W workers (each a Queue over its own ioredis connection, spread over P Node
// processes) claim and report no-op tests through one redis-server, as fast as they can, while a
// controller ticks (reap) once a second and every worker heartbeats every heartbeat-ttl/3 = 10 s, as the
// action does. Measured: tests/s from the run's start to its completion (Redis TIME, the report's
// durationMs), round trips per test (every call the clients make after the start: claims, including
// the empty and final ones, reports, heartbeats, reaps, releases), and Redis commands per test from
// INFO commandstats (CONFIG RESETSTAT just before the start; Redis counts the commands scripts run).
// Also from commandstats: the µs Redis spent running the scripts per test, and the rate that would
// allow if Redis had a core to itself (a ceiling that does not depend on the clients' CPU).
//
// Run as a child (`node bench/throughput.mjs --child`), it drives the workers it is sent over IPC.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Queue, runKeys } from './queue.mjs';
import { pass, sleep, startRedis, table } from './lib.mjs';

const HEARTBEAT_TTL_S = 30;
const IDLE_MS = 100; // the worker's first back-off when the queue is empty (src/worker/idle.ts IDLE_MIN_MS)

// ---------------------------------------------------------------- child: a group of workers
async function child() {
  let finished = false;
  process.on('disconnect', () => finished || process.exit(1)); // the parent is gone: do not linger
  const cfg = await new Promise((r) => process.once('message', r));
  const keys = cfg.keys;
  const workers = cfg.workers.map((id) => {
    const redis = new Redis(cfg.url, { maxRetriesPerRequest: null, connectionName: `bench-${id}` });
    redis.on('error', () => {});
    return { id, redis, q: new Queue(redis, keys), claims: 0, empty: 0, reports: 0, heartbeats: 0, tests: 0 };
  });
  for (const w of workers) await w.q.register(w.id);
  for (const w of workers) w.q.calls = 0; // count from the start of the run
  process.send({ type: 'ready' });
  await new Promise((r) => process.once('message', r)); // go

  const loop = async (w) => {
    // The worker heartbeats from a timer, next to its claim/report loop.
    const hb = setInterval(() => {
      w.heartbeats++;
      void w.q.heartbeat(cfg.epoch, w.id);
    }, (HEARTBEAT_TTL_S * 1000) / 3);
    try {
      for (;;) {
        w.claims++;
        const c = await w.q.claim(cfg.epoch, w.id);
        if (c.kind === 'ok') {
          w.reports++;
          w.tests += c.tests.length;
          await w.q.reportPassed(cfg.epoch, w.id, c.lease, c.tests);
        } else if (c.kind === 'done') {
          await w.q.release(cfg.epoch, w.id, 'finished');
          return;
        } else if (c.kind === 'empty') {
          w.empty++;
          await sleep(IDLE_MS);
        } else throw new Error(`claim by ${w.id}: ${c.kind}`);
      }
    } finally {
      clearInterval(hb);
    }
  };
  await Promise.all(workers.map(loop));
  const sum = (f) => workers.reduce((a, w) => a + f(w), 0);
  finished = true;
  for (const w of workers) w.redis.disconnect();
  // Report, then leave the IPC channel (a 'disconnect' listener keeps it, and this process, alive).
  process.send({
    type: 'done',
    calls: sum((w) => w.q.calls), claims: sum((w) => w.claims), empty: sum((w) => w.empty),
    reports: sum((w) => w.reports), heartbeats: sum((w) => w.heartbeats), tests: sum((w) => w.tests),
  }, () => process.disconnect());
}

// ---------------------------------------------------------------- parent
/** Calls per command, and the µs Redis spent in scripts (EVAL/EVALSHA time includes their commands). */
function commandStats(info) {
  const byCmd = {};
  let scriptUsec = 0;
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (!m || m[1] === 'info' || m[1].startsWith('config')) continue;
    byCmd[m[1]] = Number(m[2]);
    if (m[1] === 'eval' || m[1] === 'evalsha') scriptUsec += Number(m[3]);
  }
  return { byCmd, scriptUsec };
}

async function oneRun(srv, { batchSize, tests: n, workers: W, procs: P }) {
  const admin = srv.client('bench-admin');
  const keys = runKeys('bench', 'throughput', `bs${batchSize}-${Date.now()}`);
  const ctl = new Queue(admin, keys);
  const epoch = `e-${batchSize}-${Date.now()}`;
  await ctl.reset(epoch, 3600, {
    batchSize, maxAttempts: 3, retries: 0, batchTimeout: 0, heartbeatTtl: HEARTBEAT_TTL_S, maxFailures: 0,
    batchMs: 0, share: 0.5, startMs: 0, noWorkerTimeout: 600,
  });
  await ctl.seed(epoch, Array.from({ length: n }, (_, i) => `t/${i}`));
  // (ioredis sends a script's first call on each connection as EVAL, later ones as EVALSHA: both are
  // counted as script calls below.)

  // Workers in P processes, each with its own connections; they register before the start.
  const ids = Array.from({ length: W }, (_, i) => `w${i + 1}`);
  const children = Array.from({ length: P }, (_, p) => {
    const c = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: 'inherit' });
    c.send({ url: srv.url, keys, epoch, workers: ids.filter((_, i) => i % P === p) });
    return c;
  });
  const msg = (c, type) => new Promise((res, rej) => {
    c.on('message', (m) => m.type === type && res(m));
    c.once('exit', (code) => rej(new Error(`throughput child exited with ${code}`)));
  });
  await Promise.all(children.map((c) => msg(c, 'ready')));

  await admin.config('RESETSTAT');
  const started = await ctl.start(epoch);
  ctl.calls = 0;
  const results = Promise.all(children.map((c) => msg(c, 'done')));
  children.forEach((c) => c.send('go'));
  // The controller's tick, once a second, until the run is complete.
  let state = '';
  while (state !== 'complete') {
    const r = await ctl.reap(epoch, HEARTBEAT_TTL_S * 1000);
    state = String(r[0]);
    if (state !== 'complete') await Promise.race([sleep(1000), results]);
  }
  const parts = await results;
  const { byCmd: stats, scriptUsec } = commandStats(await admin.info('commandstats'));
  const completedAt = Number(await admin.hget(keys.meta, 'completedAt'));
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))));
  await admin.del(...Object.values(keys).filter((k) => !k.endsWith(':')));
  admin.disconnect();

  const sum = (f) => parts.reduce((a, p) => a + f(p), 0);
  const ms = completedAt - started;
  const calls = sum((p) => p.calls) + ctl.calls;
  const commands = Object.values(stats).reduce((a, b) => a + b, 0);
  const scripts = (stats.evalsha ?? 0) + (stats.eval ?? 0);
  if (sum((p) => p.tests) !== n) throw new Error(`throughput: ${sum((p) => p.tests)} tests claimed, ${n} seeded`);
  return {
    batchSize, n, ms, perSec: (n * 1000) / ms, calls, callsPerTest: calls / n, commands, cmdPerTest: commands / n,
    scriptsPerTest: scripts / n, innerPerTest: (commands - scripts) / n, usecPerTest: scriptUsec / n,
    claims: sum((p) => p.claims), empty: sum((p) => p.empty), reports: sum((p) => p.reports),
    heartbeats: sum((p) => p.heartbeats), reaps: ctl.calls, stats,
  };
}

export async function runThroughput({ quick = false, workers = 64, procs = 2, repeats = quick ? 1 : 3, log = console.log } = {}) {
  const srv = await startRedis();
  const sizes = [
    { batchSize: 1, tests: quick ? 5_000 : 30_000 },
    { batchSize: 10, tests: quick ? 20_000 : 150_000 },
    { batchSize: 50, tests: quick ? 40_000 : 300_000 },
  ];
  log(`\n## 2. Queue throughput: ${workers} workers in ${procs} Node process${procs > 1 ? 'es' : ''}, one redis-server ${srv.version}, no-op tests; median of ${repeats} run${repeats > 1 ? 's' : ''}\n`);
  const rows = [];
  try {
    for (const s of sizes) {
      // Other load on the machine shows up as noise: repeat, and keep the median run (by tests/s).
      const runs = [];
      for (let i = 0; i < repeats; i++) {
        const r = await oneRun(srv, { ...s, workers, procs });
        runs.push(r);
        log(`  batch size ${r.batchSize}: ${r.n} tests in ${(r.ms / 1000).toFixed(2)} s = ${Math.round(r.perSec)} tests/s; ${r.claims} claims (${r.empty} empty), ${r.reports} reports, ${r.heartbeats} heartbeats, ${r.reaps} reaps; commands: ${JSON.stringify(r.stats)}`);
      }
      runs.sort((a, b) => a.perSec - b.perSec);
      const med = runs[Math.floor(runs.length / 2)];
      med.range = `${Math.round(runs[0].perSec)}-${Math.round(runs.at(-1).perSec)}`;
      rows.push(med);
    }
  } finally {
    await srv.stop();
  }
  const at10 = rows.find((r) => r.batchSize === 10);
  const goals = [
    ['>= 20,000 tests/s at batch size 10', at10.perSec >= 20_000, `${Math.round(at10.perSec).toLocaleString('en-US')} tests/s`],
    ['<= 0.3 round trips per test at batch size 10', at10.callsPerTest <= 0.3, at10.callsPerTest.toFixed(3)],
    ['<= 5 Redis commands per test at batch size 10', at10.cmdPerTest <= 5, at10.cmdPerTest.toFixed(2)],
  ];
  const text = [
    table(
      ['batch size', 'tests', 'wall s', 'tests/s', 'tests/s, all runs', 'round trips/test', 'Redis commands/test', 'of which script calls', 'inside scripts', 'Redis µs/test', 'Redis-bound tests/s'],
      rows.map((r) => [r.batchSize, r.n, (r.ms / 1000).toFixed(2), Math.round(r.perSec), r.range, r.callsPerTest.toFixed(3), r.cmdPerTest.toFixed(2), r.scriptsPerTest.toFixed(3), r.innerPerTest.toFixed(2), r.usecPerTest.toFixed(1), Math.round(1e6 / r.usecPerTest)]),
    ),
    '',
    table(
      ['for comparison', 'round trips/test', 'Redis commands/test'],
      [['Shopify ci-queue (reported in the issue, not measured here)', '5', '39']],
    ),
    '',
    table(['goal', 'measured', ''], goals.map(([g, ok, v]) => [g, v, pass(ok)])),
  ].join('\n');
  log(`\n${text}\n`);
  return { rows, goals, text };
}

if (process.argv.includes('--child')) child().catch((e) => {
  console.error(e);
  process.exit(1);
});
