// Shared helpers of the benchmark: a throwaway redis-server, process bookkeeping (everything the bench
// starts is killed at the end, also on Ctrl-C), a seeded random generator, the synthetic suite, tables.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The bundle the bench runs: dist/index.js, or BENCH_DIST (a scratch build to compare). */
export const DIST = process.env.BENCH_DIST || join(ROOT, 'dist', 'index.js');
export const SLEEPER = join(ROOT, 'bench', 'sleeper.sh');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- processes: every child is spawned detached (it leads its own process group) and remembered ----

const groups = new Set(); // pids of process-group leaders we started (or that our children started)
let tmpRoot = '';

/** A temporary directory under one root that cleanup() removes (kept with BENCH_KEEP=1). */
export function tempDir(name) {
  if (!tmpRoot) tmpRoot = mkdtempSync(join(tmpdir(), 'shardless-bench-'));
  const d = join(tmpRoot, `${name}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(d, { recursive: true });
  return d;
}

/** Remembers a process group to kill at cleanup (the sleeper's batches, found in its log). */
export function trackGroup(pgid) {
  if (Number.isInteger(pgid) && pgid > 1) groups.add(pgid);
}

/** SIGKILLs a process group and its leader; never throws. */
export function killGroup(pgid, signal = 'SIGKILL') {
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  for (const target of [-pgid, pgid]) {
    try {
      process.kill(target, signal);
    } catch {
      /* gone */
    }
  }
}

/** Spawns a command in its own process group; returns {proc, exited: Promise<{code, signal, at}>}. */
export function startProcess(cmd, args, opts = {}) {
  const proc = spawn(cmd, args, { detached: true, stdio: opts.stdio ?? 'ignore', env: opts.env ?? process.env, cwd: opts.cwd ?? ROOT });
  groups.add(proc.pid);
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  return { proc, pid: proc.pid, exited };
}

export async function cleanup() {
  for (const g of groups) killGroup(g);
  groups.clear();
  if (redisServer) await redisServer.stop();
  if (tmpRoot && !process.env.BENCH_KEEP) rmSync(tmpRoot, { recursive: true, force: true });
}

// ---- redis-server on a free port ----

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let redisServer = null;

export async function startRedis() {
  if (spawnSync('redis-server', ['--version']).error) throw new Error('redis-server not found on the PATH (apt-get install redis-server)');
  const port = await freePort();
  const dir = tempDir('redis');
  const { proc, exited } = startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => {});
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') break;
    } catch {
      /* not yet */
    } finally {
      c.disconnect();
    }
    if (i > 200) throw new Error('redis-server did not start');
    await sleep(25);
  }
  const version = spawnSync('redis-server', ['--version']).stdout.toString().match(/v=(\S+)/)?.[1] ?? '?';
  redisServer = {
    port, url, version,
    client: (name) => {
      const c = new Redis(port, '127.0.0.1', { connectionName: name, maxRetriesPerRequest: null });
      c.on('error', () => {});
      return c;
    },
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      redisServer = null;
    },
  };
  return redisServer;
}

// ---- seeded randomness and the synthetic suite ----

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normal(rand) {
  // Box-Muller
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export function shuffle(xs, rand) {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * n tests with lognormal durations (sigma), scaled so that they add up to totalMs; ids are listed in
 * alphabetical order, which is unrelated to their durations (as a file listing would be).
 */
export function makeSuite({ n, sigma, totalMs, seed }) {
  const rand = rng(seed);
  const raw = Array.from({ length: n }, () => Math.exp(sigma * normal(rand)));
  const scale = totalMs / raw.reduce((a, b) => a + b, 0);
  const tests = raw.map((r, i) => ({ id: `suite/t${String(i + 1).padStart(3, '0')}.test`, ms: Math.max(1, Math.round(r * scale)) }));
  return { tests, ids: tests.map((t) => t.id), dur: new Map(tests.map((t) => [t.id, t.ms])) };
}

export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}

// ---- output ----

/** Prints a table: rows are arrays of cells; numbers are right-aligned. */
export function table(header, rows) {
  const cells = [header, ...rows].map((r) => r.map((c) => String(c)));
  const width = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.every((r) => typeof r[i] === 'number' || /^[-+]?[\d.,]+(\s?[a-z%×]*)?$/i.test(String(r[i]))));
  const line = (r) => `| ${r.map((c, i) => (numeric[i] ? c.padStart(width[i]) : c.padEnd(width[i]))).join(' | ')} |`;
  const sep = `|${width.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(cells[0]), sep, ...cells.slice(1).map(line)].join('\n');
}

export const s1 = (ms) => (ms / 1000).toFixed(1);
export const s2 = (ms) => (ms / 1000).toFixed(2);
export const pass = (ok) => (ok ? 'PASS' : 'MISS');

export function writeFile(path, text) {
  writeFileSync(path, text);
  return path;
}

/** Environment for the bundled action as the GitHub runner gives it: no GITHUB_*, INPUT_*, ... from the host. */
export function actionEnv(inputs, dir, extra = {}) {
  const scrub = [/^GITHUB_/, /^INPUT_/, /^RUNNER_/, /^ACTIONS_/, /^SHARDLESS_/, /^REDIS_URL$/];
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!scrub.some((re) => re.test(k))) env[k] = v;
  const tag = Math.random().toString(36).slice(2, 8);
  const output = join(dir, `github-output-${tag}`);
  const summary = join(dir, `step-summary-${tag}`);
  writeFileSync(output, '');
  writeFileSync(summary, '');
  Object.assign(env, { GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, RUNNER_TEMP: dir }, extra);
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = String(v);
  return env;
}
