#!/usr/bin/env node
// npm run bench [-- options]: the shardless benchmarks (docs/benchmarks.md).
//
//   --part makespan|throughput|recovery   run one part (repeat, or comma-separate, for several; default all)
//   --quick                               smaller suite, fewer tests and trials: a smoke run of a few minutes
//   --seed N                              makespan: suite seed (default: the first typical one, see the doc)
//   --c 600,3500                          makespan: per-batch start costs to run, in ms
//   --input name=value                    makespan: an extra controller input for the shardless (not FIFO)
//                                         runs, e.g. to try a setting (repeatable)
//   --procs N / --workers N               throughput: Node processes (default 2) and workers (default 64)
//   --trials N / --ttl S                  recovery: trials per signal (default 3) and heartbeat-ttl (default 5)
//   --suite PATH --runner vitest|jest     real: a real suite (not in the default parts; docs/benchmarks.md
//   [--runner-args '...'] [--files N]     says how to get vue core and react-hook-form); --files N runs N
//                                         of its files only (a short run while developing)
//   --rounds N                            real: run every row N times in turn; goals on the medians
//   --strict                              exit 1 when a goal is missed
//
// Needs redis-server on the PATH and dist/index.js (it is not rebuilt). Everything it starts (redis-server
// on a free port, the action's processes, the batches) is stopped at the end, also on Ctrl-C.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DIST, ROOT, cleanup, pass, table } from './lib.mjs';
import { runMakespan } from './makespan.mjs';
import { runThroughput } from './throughput.mjs';
import { runRecovery } from './recovery.mjs';
import { runReal } from './real.mjs';

const { values: opt } = parseArgs({
  options: {
    part: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
    seed: { type: 'string' },
    c: { type: 'string' },
    input: { type: 'string', multiple: true },
    procs: { type: 'string', default: '2' },
    workers: { type: 'string', default: '64' },
    trials: { type: 'string' },
    ttl: { type: 'string', default: '5' },
    suite: { type: 'string' },
    runner: { type: 'string' },
    'runner-args': { type: 'string', default: '' },
    files: { type: 'string', default: '0' },
    rounds: { type: 'string', default: '1' },
    strict: { type: 'boolean', default: false },
  },
});
const PARTS = ['makespan', 'throughput', 'recovery'];
// The real-suite part needs a suite checked out: only when asked for.
const ALL_PARTS = [...PARTS, 'real'];
const parts = opt.part ? opt.part.flatMap((p) => p.split(',')).map((p) => p.trim()) : PARTS;
for (const p of parts) if (!ALL_PARTS.includes(p)) throw new Error(`--part must be one of ${ALL_PARTS.join(', ')}; got '${p}'`);
if (parts.some((p) => p !== 'throughput') && !existsSync(DIST)) throw new Error(`${DIST} is missing: the bench runs the bundled action`);

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${sig}: stopping everything the bench started...`);
    await cleanup();
    process.exit(130);
  });
}

const started = Date.now();
console.log(`# shardless benchmarks${opt.quick ? ' (quick)' : ''}`);
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
// What was measured: the commit, and whether the bundle or the Lua scripts differ from it.
let commit = '?';
try {
  commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'dist', 'src/queue/lua'], { encoding: 'utf8' }).trim();
  if (dirty) commit += ' (dist/ or src/queue/lua/ modified)';
} catch {
  /* not a git checkout */
}
const distSha = existsSync(DIST) ? createHash('sha1').update(readFileSync(DIST)).digest('hex').slice(0, 12) : 'missing';
console.log(`code: commit ${commit}, dist/index.js sha1 ${distSha}`);
const goals = [];
// The machine may be shared: say how busy it was when each part started.
const load = (part) => console.log(`\n(${part}: load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores)`);
try {
  if (parts.includes('makespan')) {
    load('makespan');
    const r = await runMakespan({
      quick: opt.quick, seed: opt.seed === undefined ? undefined : Number(opt.seed),
      cs: opt.c ? opt.c.split(',').map(Number) : undefined,
      inputs: Object.fromEntries((opt.input ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    });
    goals.push(...r.goals.map((g) => ['makespan', ...g]));
  }
  if (parts.includes('throughput')) {
    load('throughput');
    const r = await runThroughput({ quick: opt.quick, procs: Number(opt.procs), workers: Number(opt.workers) });
    goals.push(...r.goals.map((g) => ['throughput', ...g]));
  }
  if (parts.includes('recovery')) {
    load('recovery');
    const r = await runRecovery({ quick: opt.quick, ttl: Number(opt.ttl), trials: opt.trials ? Number(opt.trials) : undefined });
    goals.push(...r.goals.map((g) => ['recovery', ...g]));
  }
  if (parts.includes('real')) {
    load('real');
    const r = await runReal({ suite: opt.suite, runner: opt.runner, runnerArgs: opt['runner-args'], files: Number(opt.files), rounds: Number(opt.rounds) });
    goals.push(...r.goals.map((g) => ['real', ...g]));
  }
} finally {
  await cleanup();
}
console.log(`## Goals\n\n${table(['part', 'goal', 'measured', ''], goals.map(([p, g, ok, v]) => [p, g, v, pass(ok)]))}\n`);
const distShaEnd = existsSync(DIST) ? createHash('sha1').update(readFileSync(DIST)).digest('hex').slice(0, 12) : 'missing';
if (distShaEnd !== distSha) console.log(`WARNING: dist/index.js changed while the bench ran (sha1 ${distSha} -> ${distShaEnd}): runs may mix versions`);
console.log(`bench took ${((Date.now() - started) / 60_000).toFixed(1)} min; load average now ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (opt.strict && goals.some((g) => !g[2])) process.exitCode = 1;
