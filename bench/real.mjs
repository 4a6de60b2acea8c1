// Part 4: a real suite (vitest or jest), on 2 workers, each pinned to its own core with taskset (cores 0
// and 1: one machine per worker, as a matrix job has), side by side in one invocation:
//
//   (a) the suite on one core (taskset -c 0), the runner run plainly: floor = that wall / 2
//   (b) the runner's own --shard 1/2 and --shard 2/2 at once, one core each: wall = the later end
//   (c) shardless, first run: a fresh redis-server, the bundled dist/index.js as GitHub runs it (INPUT_*):
//       a controller and 2 workers with the preset (runner, runner-args), batch-duration auto, workers 2,
//       timings on with nothing recorded yet
//   (d) shardless again on the same queue, with the timings (c) recorded
//
//   (e) the machine's contention: (a) again, on cores 0 and 1 at once: how much slower a core runs this
//       suite while the other runs it too (the mean of the pair's walls over (a)). The floor assumes
//       none; a machine whose cores share caches, memory bandwidth or a host's time (as a VM's may)
//       cannot reach it with any strategy. Printed beside the goals, not in them.
//
// Every wall is from spawning the processes to the last one's exit, so each pays its own start-up.
// The tests are the runner's own listing (vitest list --filesOnly, jest --listTests) with runner-args,
// given to the controller as a tests file; --files N keeps N of them (spread over the list) for a short
// run, and then every row runs those N only. Goals: (d) <= 1.05 x floor, (c) <= 1.15 x floor, both
// below (b).
//
// --rounds N runs (a) to (e) N times in turn (each round's shardless runs on a fresh queue): a shared
// machine's speed drifts over minutes, so one round's ratios move by more than the goals' margins. Each
// ratio is then to its own round's floor, and the goals take the medians of the rounds. Even rounds run
// (b) after (c) and (d), so that a drift within rounds favours neither side.
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parse } from 'shell-quote';
import { DIST, actionEnv, quantile, s1, startProcess, startRedis, table, tempDir, writeFile } from './lib.mjs';
import { runKeys } from './queue.mjs';

const W = 2;

/** runner-args as words (as the product splits them: quotes and backslashes, no shell). */
export function words(raw) {
  return parse(raw ?? '').map((e) => {
    if (typeof e === 'string') return e;
    if (e.op === 'glob') return e.pattern;
    throw new Error(`--runner-args: '${raw}' holds a shell operator or comment; quote it`);
  });
}

/** How to run each runner plainly: its command, the arguments for a shard, for given files, and its listing. */
const RUNNERS = {
  vitest: {
    cmd: (args) => ['npx', '--no', '--', 'vitest', 'run', ...args],
    shard: (i) => [`--shard=${i}/${W}`],
    files: (files) => files,
    list: (suite, args) => JSON.parse(execFileSync('npx', ['--no', '--', 'vitest', 'list', '--filesOnly', '--json', ...args], { cwd: suite, env: runEnv(), encoding: 'utf8', maxBuffer: 64 << 20 }))
      .map((e) => e.file),
  },
  jest: {
    cmd: (args) => ['npx', '--no', '--', 'jest', ...args, '--ci'],
    shard: (i) => [`--shard=${i}/${W}`],
    files: (files) => ['--runTestsByPath', ...files],
    list: (suite, args) => JSON.parse(execFileSync('npx', ['--no', '--', 'jest', ...args, '--listTests', '--json'], { cwd: suite, env: runEnv(), encoding: 'utf8', maxBuffer: 64 << 20 })),
  },
};

/** The environment of every run: CI=1 (vue core's test set-up reads it), no shardless variables. */
function runEnv() {
  const env = { ...process.env, CI: '1' };
  for (const k of Object.keys(env)) if (/^(SHARDLESS_|INPUT_|REDIS_URL$)/.test(k)) delete env[k];
  return env;
}

/** Runs a command pinned to a core, its output to a log file; resolves to { ms, code, log }. */
function pinned(core, argv, cwd, dir, tag, env = runEnv()) {
  const log = join(dir, `${tag}.log`);
  const out = createWriteStream(log);
  const t0 = Date.now();
  const p = startProcess('taskset', ['-c', String(core), ...argv], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  p.proc.stdout.pipe(out);
  p.proc.stderr.pipe(out);
  return p.exited.then((e) => ({ ms: e.at - t0, code: e.code, log }));
}

/** One shardless run: a controller (unpinned: it only waits on Redis) and W workers, worker i on core i-1. */
export async function shardless(srv, { suite, runner, runnerArgs, testsFile, queue, runId, dir }) {
  const reportPath = join(dir, `${runId}.report.json`);
  const common = { 'redis-url': srv.url, 'run-id': runId, queue, 'working-directory': suite, runner };
  const t0 = Date.now();
  const start = (inputs, tag, core) => {
    const log = join(dir, `${runId}.${tag}.log`);
    const out = createWriteStream(log);
    const argv = [process.execPath, DIST];
    const p = core === undefined
      ? startProcess(argv[0], argv.slice(1), { cwd: suite, env: actionEnv(inputs, dir, { CI: '1' }), stdio: ['ignore', 'pipe', 'pipe'] })
      : startProcess('taskset', ['-c', String(core), ...argv], { cwd: suite, env: actionEnv(inputs, dir, { CI: '1' }), stdio: ['ignore', 'pipe', 'pipe'] });
    p.proc.stdout.pipe(out);
    p.proc.stderr.pipe(out);
    p.log = log;
    return p;
  };
  const ctl = start({
    ...common, mode: 'controller', 'tests-file': testsFile, 'report-output': reportPath, 'batch-duration': 'auto', workers: W,
    timings: 'true', 'batch-size': 1000, 'no-worker-timeout': 120,
  }, 'controller');
  const workers = Array.from({ length: W }, (_, i) => start({ ...common, mode: 'worker', 'worker-id': `w${i + 1}`, 'runner-args': runnerArgs }, `w${i + 1}`, i));
  const [ce] = await Promise.all([ctl.exited, ...workers.map((w) => w.exited)]);
  const ms = Math.max(ce.at, ...(await Promise.all(workers.map((w) => w.exited))).map((e) => e.at)) - t0;
  const report = existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, 'utf8')) : null;
  if (!report) throw new Error(`shardless ${runId}: no report (controller exit ${ce.code}); see ${ctl.log}`);
  const batches = new Set(report.tests.flatMap((t) => t.runs.map((r) => r.batch))).size;
  const c = report.counts;
  // What the cost model learns from: the runner's measured costs (c) against JUnit's times (d).
  const redis = srv.client('bench-real');
  const history = (await redis.lrange(runKeys('local', queue, runId).history, 0, -1)).map((e) => JSON.parse(e));
  redis.disconnect();
  const sum = (k) => history.reduce((a, e) => a + (Number(e[k]) || 0), 0);
  const measured = history.filter((e) => typeof e.c === 'number').length;
  // Each batch as the cost model sees it: its worker, tests, wall (start to its last result) and the
  // sum of the runner's measured costs; written beside the logs, since it shows what the model fits.
  const batchRows = [...groupBy(history, (e) => e.b).values()]
    .map((es) => ({ w: es[0].w, s: es[0].s, n: es.length, wall: Math.max(...es.map((e) => e.e)) - es[0].s, c: es.reduce((a, e) => a + (Number(e.c) || 0), 0) }))
    .sort((a, b) => a.s - b.s);
  writeFile(join(dir, `${runId}.batches.txt`), `${batchRows.map((b) => `${b.w} +${s1(b.s - batchRows[0].s)} s: ${b.n} tests, wall ${s1(b.wall)} s, measured ${s1(b.c)} s`).join('\n')}\n`);
  const busy = [...groupBy(batchRows, (b) => b.w)].map(([w, bs]) => `${w} ${bs.length} batches ${s1(bs.reduce((a, b) => a + b.wall, 0))} s`).join(', ');
  return {
    ms, code: ce.code, log: ctl.log,
    notes: `${report.status}: ${c.passed} passed, ${c.failed} failed, ${c.lost} lost, ${c.skipped} skipped of ${c.total}; ${batches} batches; ` +
      `busy: ${busy}; report durationMs ${s1(report.durationMs)} s; measured costs ${s1(sum('c'))} s (${measured}/${history.length} runs), JUnit ${s1(sum('d'))} s`,
  };
}

/** Map.groupBy, which Node 20 lacks. */
function groupBy(xs, key) {
  const m = new Map();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}

/** Keeps n files spread evenly over the list (all when n is 0 or more than there are). */
function spread(files, n) {
  if (!n || n >= files.length) return files;
  return Array.from({ length: n }, (_, i) => files[Math.floor((i * files.length) / n)]);
}

/**
 * One round: (a) to (e), each a wall in ms; the shardless runs on a fresh queue (no timings yet). Even
 * rounds run (b) after (c) and (d), odd ones before: a machine that slows (or speeds up) over a round
 * then favours neither side in the medians.
 */
async function round(k, { suite, runner, r, args, runnerArgs, testsFile, subset, dir, log }) {
  const tag = (t) => (k > 1 ? `${t}-r${k}` : t);
  const one = await pinned(0, [...r.cmd(args), ...(subset.length ? r.files(subset) : [])], suite, dir, tag('one-core'));
  const shardPair = () => Promise.all(Array.from({ length: W }, (_, i) =>
    pinned(i, [...r.cmd(args), ...r.shard(i + 1), ...(subset.length ? r.files(subset) : [])], suite, dir, tag(`shard-${i + 1}`))));
  const shardFirst = k % 2 === 1;
  let shards = shardFirst ? await shardPair() : null;
  const srv = await startRedis();
  const queue = `real-${Date.now().toString(36)}`;
  let first;
  let known;
  try {
    first = await shardless(srv, { suite, runner, runnerArgs, testsFile, queue, runId: `${queue}-1`, dir });
    known = await shardless(srv, { suite, runner, runnerArgs, testsFile, queue, runId: `${queue}-2`, dir });
  } finally {
    await srv.stop();
  }
  shards ??= await shardPair();
  // (e): the same run as (a) on both cores at once. Their mean over (a) is how much slower a core runs
  // this suite while the other runs it too (one of two jests sharing a cache may wait on the other's writes).
  const pair = await Promise.all(Array.from({ length: W }, (_, i) =>
    pinned(i, [...r.cmd(args), ...(subset.length ? r.files(subset) : [])], suite, dir, tag(`pair-${i + 1}`))));
  const floor = one.ms / W;
  const shardMs = Math.max(...shards.map((s) => s.ms));
  const contention = pair.reduce((a, p) => a + p.ms, 0) / pair.length / one.ms;
  const rows = [
    ['(a) one core, the runner plainly', one.ms, `exit ${one.code}; floor = ${s1(one.ms)} / ${W} = ${s1(floor)} s`],
    [`(b) ${runner} --shard 1/${W} and 2/${W} at once`, shardMs, `exits ${shards.map((s) => s.code).join(', ')}; ${shards.map((s) => s1(s.ms)).join(' s and ')} s; run ${shardFirst ? 'before' : 'after'} (c) and (d)`],
    ['(c) shardless, first run (no timings)', first.ms, `exit ${first.code}; ${first.notes}`],
    ['(d) shardless, timings of (c)', known.ms, `exit ${known.code}; ${known.notes}`],
    [`(e) (a) on cores 0 and 1 at once`, Math.max(...pair.map((p) => p.ms)), `exits ${pair.map((p) => p.code).join(', ')}; ${pair.map((p) => s1(p.ms)).join(' s and ')} s: contention x${contention.toFixed(3)}`],
  ];
  log(`\n### Round ${k}\n`);
  log(table(['run', 'wall s', '/ floor', 'notes'], rows.map(([name, ms, notes]) => [name, s1(ms), (ms / floor).toFixed(3), notes])));
  const loaded = floor * contention;
  log(`\nWith the floor loaded by (e) (${s1(loaded)} s): (b) ${(shardMs / loaded).toFixed(3)}, (c) ${(first.ms / loaded).toFixed(3)}, (d) ${(known.ms / loaded).toFixed(3)} x.`);
  return { b: shardMs / floor, c: first.ms / floor, d: known.ms / floor, contention, cb: first.ms / shardMs, db: known.ms / shardMs };
}

export async function runReal({ suite, runner, runnerArgs = '', files: nFiles = 0, rounds = 1, log = console.log }) {
  if (!suite) throw new Error('--part real needs --suite <path> (see docs/benchmarks.md for how to get each suite)');
  const r = RUNNERS[runner];
  if (!r) throw new Error(`--runner must be one of ${Object.keys(RUNNERS).join(', ')}; got '${runner}'`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number of 1 or more; got '${rounds}'`);
  try {
    execFileSync('taskset', ['-c', '1', 'true']);
  } catch {
    throw new Error('--part real needs taskset (util-linux) and 2 cores: each worker is pinned to one');
  }
  const args = words(runnerArgs);
  const dir = tempDir('real');
  const all = [...new Set(r.list(suite, args).map((f) => relative(suite, f)))].sort();
  const files = spread(all, nFiles);
  const subset = files.length < all.length ? files : [];
  const testsFile = writeFile(join(dir, 'tests.txt'), `${files.join('\n')}\n`);
  log(`\n## 4. A real suite: ${suite} (${runner}${args.length ? ` ${runnerArgs}` : ''}), ${files.length}${subset.length ? ` of ${all.length}` : ''} test files, 2 workers on cores 0 and 1, ${rounds} round${rounds === 1 ? '' : 's'}\n`);
  log(`(logs in ${dir}${process.env.BENCH_KEEP ? '' : '; BENCH_KEEP=1 keeps them'})`);

  const res = [];
  for (let k = 1; k <= rounds; k++) res.push(await round(k, { suite, runner, r, args, runnerArgs, testsFile, subset, dir, log }));
  const m = (key) => quantile(res.map((x) => x[key]), 0.5);
  if (rounds > 1) {
    log(`\n### The ${rounds} rounds: each ratio is to its own round's floor; the goals take the medians\n`);
    const row = (name, key) => [name, ...res.map((x) => x[key].toFixed(3)), m(key).toFixed(3)];
    log(table(['ratio', ...res.map((_, i) => `round ${i + 1}`), 'median'], [
      row('(b) --shard pair / floor', 'b'), row('(c) first run / floor', 'c'), row('(d) with timings / floor', 'd'),
      row('(c) / (b)', 'cb'), row('(d) / (b)', 'db'), row('(e) contention', 'contention'),
    ]));
  }
  log('');
  const of = rounds > 1 ? ' (median of the rounds)' : '';
  return {
    goals: [
      [`with timings <= 1.05 x floor${of}`, m('d') <= 1.05, `${m('d').toFixed(3)} x`],
      [`first run <= 1.15 x floor${of}`, m('c') <= 1.15, `${m('c').toFixed(3)} x`],
      [`both below the --shard pair${of}`, m('cb') < 1 && m('db') < 1, `${m('cb').toFixed(3)} and ${m('db').toFixed(3)} x the pair`],
    ],
  };
}
