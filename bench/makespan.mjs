// Part 1: makespan. A synthetic suite with skewed (lognormal, seeded) durations runs on W workers under
// each strategy, with a per-batch start cost c of 0.6 s (a warm runner) and of 3.5 s (a cold vitest
// start). Every batch is a real process: bench/sleeper.sh sleeps c plus the sum of its tests' durations
// and writes JUnit whose time for each test is 5-15 % of its real one, the fraction drawn per test (a
// runner's JUnit leaves out import, environment and collection: 8.4 % of vue core's real cost shows).
//
//   static, by count, contiguous   shard i gets tests [i*n/W, (i+1)*n/W) of the listed order (--shard i/N)
//   static, by count, round-robin  test j goes to shard j mod W
//   static, by known durations     greedy: longest first, each to the least loaded shard (exact durations)
//   FIFO of single tests           ci-queue's scheme: shardless, batch-size 1, timings false, shuffled list
//   shardless, first run           timings on but nothing recorded; batch-duration auto, workers 8, batch-size 1000
//   shardless, timings known       the same queue again: the first run's recorded timings are used
//
// Static strategies run W processes at once, one per shard. Shardless strategies run the bundled action
// (dist/index.js) as GitHub does (INPUT_* variables): a controller and W workers started together.
// Makespan is measured the same way for all: from the start of the first batch to the end of the last,
// as the batches themselves log it ($EPOCHREALTIME in sleeper.sh). So shardless is charged for its
// claims, reports and the gaps between batches, and for workers joining late, but not for node's own
// start-up before the first batch (a static job has its own start-up, not modelled here either).
// floor = max(total work / W, longest test) + c: no schedule of these processes can beat it.
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runKeys } from './queue.mjs';
import {
  DIST, SLEEPER, actionEnv, makeSuite, pass, quantile, rng, s1, shuffle, startProcess, startRedis, table, tempDir,
  trackGroup, writeFile,
} from './lib.mjs';

const W = 8;
/** The part of a test's real cost its JUnit time shows: drawn per test, uniform in [5 %, 15 %]. */
const JUNIT_SHOWN = [0.05, 0.15];
/** The shardless runs: adaptive batches, the matrix size given, batch-size high enough never to bind. */
export const SHARDLESS_INPUTS = { 'batch-size': 1000, 'batch-duration': 'auto', timings: 'true', workers: W };

/** The seed: the first one whose suite is typical for static sharding (see docs/benchmarks.md). */
export function typicalSeed({ n, sigma, perWorkerMs }) {
  const total = W * perWorkerMs;
  const rows = [];
  for (let seed = 1; seed <= 500; seed++) {
    const { tests } = makeSuite({ n, sigma, totalMs: total, seed });
    const d = tests.map((t) => t.ms);
    const floor = Math.max(perWorkerMs, Math.max(...d));
    const ratio = (shards) => Math.max(...shards.map((s) => s.reduce((a, i) => a + d[i], 0))) / floor;
    rows.push({
      seed, mm: Math.max(...d) / quantile(d, 0.5), max: Math.max(...d),
      cont: ratio(splitContiguous(d.length)), rr: ratio(splitRoundRobin(d.length)),
    });
  }
  const mc = quantile(rows.map((r) => r.cont), 0.5);
  const mr = quantile(rows.map((r) => r.rr), 0.5);
  const ok = (r) => Math.abs(r.cont - mc) <= 0.05 && Math.abs(r.rr - mr) <= 0.05 && r.mm >= 10 && r.mm <= 100;
  const pick = rows.find((r) => ok(r) && r.max <= perWorkerMs / 2) ?? rows.find(ok) ?? rows[0];
  return { seed: pick.seed, medianContiguous: mc, medianRoundRobin: mr };
}

// ---- static splits: lists of test indexes, one per shard ----
function splitContiguous(n) {
  return Array.from({ length: W }, (_, s) => Array.from({ length: Math.floor(((s + 1) * n) / W) - Math.floor((s * n) / W) }, (_, k) => Math.floor((s * n) / W) + k));
}
function splitRoundRobin(n) {
  return Array.from({ length: W }, (_, s) => Array.from({ length: n }, (_, i) => i).filter((i) => i % W === s));
}
function splitGreedy(d) {
  const shards = Array.from({ length: W }, () => ({ sum: 0, idx: [] }));
  for (const i of d.map((_, i) => i).sort((a, b) => d[b] - d[a])) {
    const s = shards.reduce((m, x) => (x.sum < m.sum ? x : m));
    s.sum += d[i];
    s.idx.push(i);
  }
  return shards.map((s) => s.idx);
}

/** Batches logged by sleeper.sh: {start, end (ms), worker, tests}. */
function readBatches(path) {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.startsWith('end ')).map((l) => {
    const f = l.split(' ');
    return { start: Number(f[1]) * 1000, end: Number(f[2]) * 1000, pgid: Number(f[3]), worker: f[4], n: Number(f[5]), tests: f.slice(6) };
  });
}

function span(batches) {
  const start = Math.min(...batches.map((b) => b.start));
  const end = Math.max(...batches.map((b) => b.end));
  // Skew: how much later than the first worker the last one started its first batch.
  const firsts = [...new Set(batches.map((b) => b.worker))].map((w) => Math.min(...batches.filter((b) => b.worker === w).map((b) => b.start)));
  return { makespan: end - start, skew: Math.max(...firsts) - Math.min(...firsts) };
}

/** Runs every static split of every c at once: W sleeping processes each (they take no CPU). */
export async function runStatics(suite, cs, dir) {
  const d = suite.tests.map((t) => t.ms);
  const splits = { 'static, by count, contiguous (--shard)': splitContiguous(d.length), 'static, by count, round-robin': splitRoundRobin(d.length), 'static, by known durations (greedy)': splitGreedy(d) };
  const runs = [];
  for (const c of cs) {
    for (const [name, shards] of Object.entries(splits)) {
      const log = join(dir, `static-${c}-${runs.length}.log`);
      const env = { ...process.env, BENCH_DURATIONS: suite.tsv, BENCH_C_MS: String(c), BENCH_LOG: log };
      const procs = shards.map((idx, s) => startProcess('bash', [SLEEPER, join(dir, `junit-${c}-${runs.length}-${s}.xml`), ...idx.map((i) => suite.ids[i])], { env: { ...env, SHARDLESS_WORKER: `s${s + 1}` } }));
      runs.push({ c, name, log, procs, model: Math.max(...shards.map((idx) => idx.reduce((a, i) => a + d[i], 0))) + c });
    }
  }
  await Promise.all(runs.flatMap((r) => r.procs.map((p) => p.exited)));
  return runs.map((r) => {
    const bs = readBatches(r.log);
    if (bs.length !== W) throw new Error(`${r.name}: ${bs.length} of ${W} shard processes logged their end`);
    return { c: r.c, name: r.name, batches: bs.length, ...span(bs), model: r.model };
  });
}

/** One run of the bundled action: a controller and W workers, started together. */
export async function runShardless(srv, suite, dir, { c, name, queue, runId, tests, inputs, known = false }) {
  const log = join(dir, `${runId}.batches.log`);
  const testsFile = writeFile(join(dir, `${runId}.tests.txt`), `${tests.join('\n')}\n`);
  const reportPath = join(dir, `${runId}.report.json`);
  const common = { 'redis-url': srv.url, 'run-id': runId, queue, 'working-directory': dir };
  const env = { BENCH_DURATIONS: suite.tsv, BENCH_C_MS: String(c), BENCH_LOG: log };
  const start = (inp, tag) => {
    const out = createWriteStream(join(dir, `${runId}.${tag}.log`));
    const p = startProcess(process.execPath, [DIST], { env: actionEnv(inp, dir, env), stdio: ['ignore', 'pipe', 'pipe'] });
    p.proc.stdout.pipe(out);
    p.proc.stderr.pipe(out);
    p.logPath = join(dir, `${runId}.${tag}.log`);
    return p;
  };
  const ctl = start({ ...common, mode: 'controller', 'tests-file': testsFile, 'report-output': reportPath, 'no-worker-timeout': 60, ...inputs }, 'controller');
  const workers = Array.from({ length: W }, (_, i) => start({ ...common, mode: 'worker', 'worker-id': `w${i + 1}`, command: `bash ${SLEEPER} {junit} {tests}` }, `w${i + 1}`));
  // Remember the batches' process groups as they start, so that an interrupted bench kills them too.
  const watch = setInterval(() => {
    if (existsSync(log)) for (const l of readFileSync(log, 'utf8').split('\n')) if (l.startsWith('begin ')) trackGroup(Number(l.split(' ')[2]));
  }, 500);
  const [ce] = await Promise.all([ctl.exited, ...workers.map((w) => w.exited)]);
  clearInterval(watch);
  const report = existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, 'utf8')) : null;
  if (ce.code !== 0 || !report || report.status !== 'passed' || report.counts.passed !== suite.ids.length) {
    throw new Error(`${name} (c=${c}): controller exit ${ce.code}, report ${report?.status}; see ${ctl.logPath}`);
  }
  // Keep the leases (batches as Redis saw them) next to the logs, for a look with BENCH_KEEP=1, and read
  // the per-batch start cost the controller published for the run (its estimate; 0 when unknown).
  const redis = srv.client('bench-makespan');
  const keys = runKeys('local', queue, runId);
  const leases = await redis.hgetall(keys.leases);
  const startCost = await redis.hget(keys.meta, 'startMs');
  redis.disconnect();
  writeFile(join(dir, `${runId}.leases.json`), JSON.stringify(Object.entries(leases).filter(([k]) => k !== '_').map(([k, v]) => ({ id: Number(k), ...JSON.parse(v) })).sort((a, b) => a.id - b.id), null, 1));
  const bs = readBatches(log);
  const sizes = bs.map((b) => b.n);
  const timed = known && startCost !== null;
  return {
    c, name, batches: bs.length, ...span(bs), reportMs: report.durationMs,
    notes: `${sizes.length} batches of ${Math.min(...sizes)}-${Math.max(...sizes)} tests${timed ? `, start cost est. ${s1(Number(startCost))} s` : ''}`,
  };
}

export async function runMakespan({ quick = false, seed, cs = [600, 3500], inputs = {}, log = console.log } = {}) {
  const shape = quick ? { n: 120, sigma: 1.4, perWorkerMs: 12_000 } : { n: 300, sigma: 1.4, perWorkerMs: 60_000 };
  const typical = typicalSeed(shape);
  const seedUsed = seed ?? typical.seed;
  const dir = tempDir('makespan');
  const suite = makeSuite({ n: shape.n, sigma: shape.sigma, totalMs: W * shape.perWorkerMs, seed: seedUsed });
  const shown = rng(seedUsed + 2);
  const junitMs = (ms) => Math.round(ms * (JUNIT_SHOWN[0] + (JUNIT_SHOWN[1] - JUNIT_SHOWN[0]) * shown()));
  suite.tsv = writeFile(join(dir, 'durations.tsv'), suite.tests.map((t) => `${t.id}\t${t.ms}\t${junitMs(t.ms)}\n`).join(''));
  const d = suite.tests.map((t) => t.ms);
  const total = d.reduce((a, b) => a + b, 0);
  const longest = Math.max(...d);
  const med = quantile(d, 0.5);
  log(`\n## 1. Makespan: ${shape.n} tests over ${W} workers, lognormal (sigma ${shape.sigma}, seed ${seedUsed})\n`);
  log(`  suite: total ${s1(total)} s (${s1(total / W)} s per worker), median ${s1(med)} s, p90 ${s1(quantile(d, 0.9))} s, longest ${s1(longest)} s, max/median ${(longest / med).toFixed(0)}`);
  log(`  static split by count over 500 such suites: median ${typical.medianContiguous.toFixed(2)} (contiguous), ${typical.medianRoundRobin.toFixed(2)} (round-robin) x the floor at c = 0`);

  const srv = await startRedis();
  const results = [];
  try {
    log(`  running the static splits (${cs.length * 3} x ${W} processes at once)...`);
    results.push(...(await runStatics(suite, cs, dir)));
    const stamp = Date.now().toString(36);
    const listed = suite.ids; // alphabetical: unrelated to the durations
    const shuffled = shuffle(suite.ids, rng(seedUsed + 1));
    for (const c of cs) {
      const queue = `makespan-c${c}-${stamp}`; // its own timings history
      const runs = [
        { name: 'FIFO of single tests (ci-queue scheme)', queue: `${queue}-fifo`, tests: shuffled, inputs: { 'batch-size': 1, 'batch-duration': 0, timings: 'false' } },
        { name: 'shardless, first run (no timings yet)', queue, tests: listed, inputs: { ...SHARDLESS_INPUTS, ...inputs } },
        { name: 'shardless, timings known (second run)', queue, tests: listed, inputs: { ...SHARDLESS_INPUTS, ...inputs }, known: true },
      ];
      for (const [i, r] of runs.entries()) {
        log(`  c = ${s1(c)} s: ${r.name}...`);
        const res = await runShardless(srv, suite, dir, { ...r, c, runId: `${r.queue}-run${i}` });
        log(`    makespan ${s1(res.makespan)} s, ${res.notes}, first batches spread over ${s1(res.skew)} s, report durationMs ${s1(res.reportMs)} s`);
        results.push(res);
      }
    }
  } finally {
    await srv.stop();
  }

  // ---- tables ----
  const texts = [];
  const goals = [];
  for (const c of cs) {
    const floor = Math.max(total / W, longest) + c;
    const rs = results.filter((r) => r.c === c);
    const get = (prefix) => rs.find((r) => r.name.startsWith(prefix));
    const cont = get('static, by count, contiguous');
    const rr = get('static, by count, round-robin');
    const first = get('shardless, first run');
    const known = get('shardless, timings known');
    const vsCount = (r) => `${Math.round((1 - r.makespan / cont.makespan) * 100)}% / ${Math.round((1 - r.makespan / rr.makespan) * 100)}%`;
    texts.push(`### c = ${s1(c)} s per batch; floor = max(${s1(total)} / ${W}, ${s1(longest)}) + ${s1(c)} = ${s1(floor)} s\n`);
    texts.push(table(
      ['strategy', 'batches', 'makespan s', '/ floor', 'below static by count (contig. / r-r)', 'first batches spread s', 'notes'],
      rs.map((r) => [
        r.name, r.batches, s1(r.makespan), (r.makespan / floor).toFixed(3), r.name.startsWith('static, by count') ? '' : vsCount(r), s1(r.skew),
        r.model !== undefined ? `model ${s1(r.model)} s` : `${r.notes}; report durationMs ${s1(r.reportMs)} s`,
      ]),
    ));
    texts.push('');
    const g = [
      [`c=${s1(c)}: timings known, makespan within 5% of the floor`, known.makespan <= 1.05 * floor, `${(known.makespan / floor).toFixed(3)} x floor`],
      [`c=${s1(c)}: timings known, >= 30% below static split by count`, known.makespan <= 0.7 * Math.min(cont.makespan, rr.makespan), `${vsCount(known)} below`],
      [`c=${s1(c)}: first run (no timings), within 15% of the floor`, first.makespan <= 1.15 * floor, `${(first.makespan / floor).toFixed(3)} x floor`],
    ];
    goals.push(...g);
  }
  texts.push(table(['goal', 'measured', ''], goals.map(([gl, ok, v]) => [gl, v, pass(ok)])));
  const text = texts.join('\n');
  log(`\n${text}\n`);
  return { results, goals, text, suite: { seed: seedUsed, total, longest, med } };
}
