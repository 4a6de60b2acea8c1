// Shared machinery of the chaos suite (`npm run chaos`): a seeded PRNG, process-tree faults found through
// /proc (so a stale pid from an old batch is never signalled), a TCP proxy that can pause, delay and cut
// connections, and the end-of-scenario checks of the contract's invariants (docs/protocol.md#invariants) from the JSON report
// AND from the run's keys in Redis.

import { readdirSync, readFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { expect } from 'vitest';
import type { Redis } from 'ioredis';
import { runKeys } from '../../src/queue/keys.js';
import type { ActionRun } from '../helpers/action.js';
import { type Report, type Scenario, type Status, checkReport, scanKeys } from '../e2e/harness.js';

export { scanKeys };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------
// Seeded randomness

/** The seed of this process's scenarios: CHAOS_SEED replays a run, else a fresh one (printed). */
export function chaosSeed(): number {
  const env = process.env.CHAOS_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0) throw new Error(`CHAOS_SEED must be a non-negative integer, not ${JSON.stringify(env)}`);
    return n >>> 0;
  }
  return Math.floor(Math.random() * 2 ** 31);
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** Integer in [lo, hi]. */
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
  };
}

// ---------------------------------------------------------------------------------------------------
// Process trees through /proc

function statOf(pid: number): { ppid: number; pgrp: number; state: string } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]) };
  } catch {
    return null;
  }
}

/** Every live descendant of pid (children first found through their parent pid). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = statOf(Number(name));
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(Number(name));
    else children.set(st.ppid, [Number(name)]);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    for (const c of children.get(todo.pop()!) ?? []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  if (pgid > 1) {
    try {
      process.kill(-pgid, sig);
    } catch {
      /* gone */
    }
  }
}

/**
 * Freezes a job: the worker's node process first (so it starts nothing new), then every process below it
 * and their process groups (a batch leads its own group). Returns what was frozen, for thawJob.
 */
export function freezeJob(pid: number): number[] {
  signal(pid, 'SIGSTOP');
  const below = descendants(pid);
  const groups = new Set<number>();
  for (const p of below) {
    const st = statOf(p);
    if (st && st.pgrp !== process.pid && st.pgrp > 1) groups.add(st.pgrp);
    signal(p, 'SIGSTOP');
  }
  for (const g of groups) signalGroup(g, 'SIGSTOP');
  return [pid, ...below];
}

/** Thaws what freezeJob froze: the batch first, then the worker. */
export function thawJob(frozen: number[]): void {
  const [worker, ...below] = frozen;
  for (const p of below) {
    const st = statOf(p);
    if (st && st.pgrp > 1 && st.pgrp !== process.pid) signalGroup(st.pgrp, 'SIGCONT');
    signal(p, 'SIGCONT');
  }
  signal(worker, 'SIGCONT');
}

/** A worker job of a chaos driver: its action, and what the driver did to it. */
export interface Job {
  id: string;
  run: ActionRun;
  startedAt: number;
  /** Killed by the driver (its exit status is not checked). */
  killed: boolean;
  killedAt: number;
  frozen: number[] | null;
  thawAt: number;
}

/** SIGKILLs a job with its whole process tree (a runner machine lost): worker frozen first, then all. */
export function killJob(pid: number): number[] {
  signal(pid, 'SIGSTOP');
  const below = descendants(pid);
  const groups = new Set<number>([pid]);
  for (const p of below) {
    const st = statOf(p);
    if (st && st.pgrp > 1 && st.pgrp !== process.pid) groups.add(st.pgrp);
  }
  for (const g of groups) signalGroup(g, 'SIGKILL');
  for (const p of [pid, ...below]) signal(p, 'SIGKILL');
  return [pid, ...below];
}

export function isLive(pid: number): boolean {
  const st = statOf(pid);
  return st !== null && st.state !== 'Z';
}

/** Peak resident set (VmHWM) of a live process, in kB; 0 when it is gone. */
export function vmHWMkB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------------
// A TCP proxy between the actions and Redis that can pause, delay and cut every connection

interface Conn {
  id: number;
  client: Socket;
  upstream: Socket;
  /** Drop the next reply from Redis on this connection and cut it (a reply lost to a broken link). */
  loseNextReply: boolean;
  closed: boolean;
}

interface Pipe {
  q: { due: number; data: Buffer }[];
  lastDue: number;
  timer?: NodeJS.Timeout;
}

export interface ProxyStats {
  connections: number;
  breaks: number;
  socketsCut: number;
  pauses: number;
  pausedMs: number;
  repliesLost: number;
}

export class ChaosProxy {
  private server!: Server;
  private readonly conns = new Set<Conn>();
  private readonly pipes = new Set<{ pipe: Pipe; flush: () => void }>();
  private paused = false;
  private pausedAt = 0;
  private seq = 0;
  private loseReplyWhen: ((clientData: string) => boolean) | null = null;
  /** One-way delay added to every chunk, each direction, order kept. */
  latencyMs = 0;
  port = 0;
  readonly stats: ProxyStats = { connections: 0, breaks: 0, socketsCut: 0, pauses: 0, pausedMs: 0, repliesLost: 0 };

  constructor(readonly targetPort: number, readonly targetHost = '127.0.0.1') {}

  static async start(targetPort: number): Promise<ChaosProxy> {
    const p = new ChaosProxy(targetPort);
    await p.listen();
    return p;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private listen(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.port = (this.server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  private accept(client: Socket): void {
    this.stats.connections++;
    const upstream = connect(this.targetPort, this.targetHost);
    const conn: Conn = { id: ++this.seq, client, upstream, loseNextReply: false, closed: false };
    this.conns.add(conn);
    const close = () => {
      if (conn.closed) return;
      conn.closed = true;
      this.conns.delete(conn);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const up = this.pipe(upstream, conn);
    const down = this.pipe(client, conn);
    client.on('data', (d: Buffer) => {
      if (this.loseReplyWhen && this.loseReplyWhen(d.toString('latin1'))) {
        this.loseReplyWhen = null;
        conn.loseNextReply = true;
      }
      up(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (conn.loseNextReply) {
        // Redis ran the command and answered; the answer never reaches the client.
        conn.loseNextReply = false;
        this.stats.repliesLost++;
        this.stats.socketsCut += 2;
        close();
        return;
      }
      down(d);
    });
  }

  /** Forwarding of one direction: each chunk waits for latencyMs (order kept) and while paused. */
  private pipe(to: Socket, conn: Conn): (d: Buffer) => void {
    const pipe: Pipe = { q: [], lastDue: 0 };
    const flush = () => {
      clearTimeout(pipe.timer);
      pipe.timer = undefined;
      if (conn.closed) {
        pipe.q.length = 0;
        this.pipes.delete(entry);
        return;
      }
      if (this.paused) return;
      const now = Date.now();
      while (pipe.q.length && pipe.q[0].due <= now) to.write(pipe.q.shift()!.data);
      if (pipe.q.length) pipe.timer = setTimeout(flush, pipe.q[0].due - now);
    };
    const entry = { pipe, flush };
    this.pipes.add(entry);
    return (data: Buffer) => {
      const due = Math.max(pipe.lastDue, Date.now() + this.latencyMs);
      pipe.lastDue = due;
      pipe.q.push({ due, data });
      if (!pipe.timer) flush();
    };
  }

  /** Stops forwarding (both ways, every connection, new ones too) until resume(); nothing is dropped. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.pausedAt = Date.now();
    this.stats.pauses++;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.stats.pausedMs += Date.now() - this.pausedAt;
    for (const p of this.pipes) p.flush();
  }

  /** Destroys every open connection, both sides (clients reconnect through the proxy). */
  break(): number {
    this.stats.breaks++;
    const n = this.conns.size;
    for (const c of [...this.conns]) {
      c.client.destroy();
      c.upstream.destroy();
    }
    this.stats.socketsCut += 2 * n;
    return n;
  }

  /** Once: when a client sends data matching `when`, Redis's next reply on that connection is dropped and the connection cut. */
  loseReplyOnce(when: (clientData: string) => boolean): void {
    this.loseReplyWhen = when;
  }

  get armed(): boolean {
    return this.loseReplyWhen !== null;
  }

  async close(): Promise<void> {
    this.resume();
    this.break();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

// ---------------------------------------------------------------------------------------------------
// The run's state in Redis, and the invariants

export interface HistoryEntry {
  t: string;
  w: string;
  b: string;
  i: boolean;
  o: 'passed' | 'failed' | 'skipped' | 'lost' | 'timeout' | 'split';
  d: number;
  m: string;
  s: number;
  e: number;
}

export interface LeaseRecord {
  id: string;
  w: string;
  s: number;
  e?: number;
  i?: boolean;
  t: string[];
  st: 'active' | 'done' | 'reclaimed' | 'released';
}

export interface RunState {
  prefix: string;
  meta: Record<string, string>;
  tests: Map<string, string>;
  history: HistoryEntry[];
  leases: LeaseRecord[];
  queue: string[];
  requeue: string[];
  /** Every key of the run (SCAN MATCH prefix*) with its PTTL. */
  keys: Map<string, number>;
  /** Keys of the whole server without a TTL. */
  keysWithoutTtl: string[];
}

export function runPrefix(s: Scenario): string {
  return runKeys('local', s.queue, s.runId).prefix;
}

/** How many tests of the run are final, by its meta in Redis. */
export async function doneCount(s: Scenario): Promise<number> {
  const c = s.redis.client();
  try {
    return Number((await c.hget(`${runPrefix(s)}meta`, 'done')) ?? 0);
  } finally {
    c.disconnect();
  }
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

export async function readRunState(c: Redis, prefix: string): Promise<RunState> {
  const k = (n: string) => `${prefix}${n}`;
  const [meta, tests, leasesRaw, queue, requeue] = await Promise.all([
    c.hgetall(k('meta')),
    c.hgetall(k('tests')),
    c.hgetall(k('leases')),
    c.lrange(k('queue'), 0, -1),
    c.lrange(k('requeue'), 0, -1),
  ]);
  const history: HistoryEntry[] = [];
  for (let i = 0; ; i += 5000) {
    const part = await c.lrange(k('history'), i, i + 4999);
    for (const s of part) history.push(JSON.parse(s) as HistoryEntry);
    if (part.length < 5000) break;
  }
  const leases = Object.entries(leasesRaw)
    .filter(([id]) => id !== '_')
    .map(([id, v]) => ({ id, ...(JSON.parse(v) as Omit<LeaseRecord, 'id'>) }))
    .map((l) => ({ ...l, t: Array.isArray(l.t) ? l.t : [] }));
  const keys = new Map<string, number>();
  const runKeyNames = await scanKeys(c, `${globEscape(prefix)}*`);
  const pttls = await Promise.all(runKeyNames.map((key) => c.pttl(key)));
  runKeyNames.forEach((key, i) => keys.set(key, pttls[i]));
  const all = await scanKeys(c);
  const allTtl = await Promise.all(all.map((key) => c.pttl(key)));
  const keysWithoutTtl = all.filter((_, i) => allTtl[i] === -1);
  return { prefix, meta, tests: new Map(Object.entries(tests)), history, leases, queue, requeue, keys, keysWithoutTtl };
}

const FINAL = new Set(['passed', 'failed', 'flaky', 'lost', 'skipped']);
const whereOf = (packed: string | undefined) => (packed ? packed.slice(0, packed.indexOf('|')) : undefined);

/**
 * Replays a test's runs (history order) through the contract's life of a test: which run made it final,
 * with what status, and how many runs had no result. A final test takes no further run.
 */
export function replay(runs: HistoryEntry[], maxAttempts: number, retries: number): { status: Status | null; finalAt: number; noResult: number; after: number } {
  let fails = 0;
  let passes = 0;
  let attempts = 0;
  let status: Status | null = null;
  let finalAt = -1;
  let noResult = 0;
  runs.forEach((r, i) => {
    if (status !== null) return;
    switch (r.o) {
      case 'passed':
        passes++;
        status = fails > 0 ? 'flaky' : 'passed';
        break;
      case 'skipped':
        status = 'skipped';
        break;
      case 'failed':
        fails++;
        if (fails > retries) status = passes > 0 ? 'flaky' : 'failed';
        break;
      case 'lost':
      case 'timeout':
        attempts++;
        noResult++;
        if (attempts >= maxAttempts) status = 'lost';
        break;
      case 'split':
        break;
    }
    if (status !== null) finalAt = i;
  });
  return { status, finalAt, noResult, after: finalAt < 0 ? 0 : runs.length - 1 - finalAt };
}

export interface RunFigures {
  tests: number;
  runs: number;
  noResultRuns: number;
  leases: number;
  reclaimedLeases: number;
  releasedLeases: number;
  /** Late results of reclaimed leases that were accepted (rule 3: the test was waiting in the requeue). */
  lateResultsAccepted: number;
  workersSeen: number;
  counts: Report['counts'];
}

export interface CheckOptions {
  maxAttempts: number;
  retries?: number;
  /** The run must have completed (every test final); else it may be aborted, with not-run tests. */
  complete: boolean;
  /** No test may end lost. */
  noLost?: boolean;
}

/**
 * The invariants at the end of a scenario, from the report and from Redis:
 *  1. every seeded test exactly once in the report, with exactly one final status, the same as in Redis;
 *  - replaying each test's history: exactly one run made it final (the last one: nothing after it, so a
 *    final status never changed) and it gives the report's status; `lost` only after max-attempts runs
 *    without a result;
 *  2. no test was ever held under two leases at once (lease intervals of a test are disjoint), and at the
 *    end each non-final test is in exactly one place;
 *  6. every key of the run (and of the server) has a TTL.
 */
export async function checkInvariants(s: Scenario, seeded: string[], opts: CheckOptions, c?: Redis): Promise<{ report: Report; state: RunState; figures: RunFigures }> {
  const retries = opts.retries ?? 0;
  const report = s.report();
  const client = c ?? s.redis.client();
  let state: RunState;
  try {
    state = await readRunState(client, runPrefix(s));
  } finally {
    if (!c) client.disconnect();
  }
  const { meta, tests, history, leases } = state;

  // The run in Redis.
  expect(Number(meta.total), 'meta.total: every seeded test counted once').toBe(seeded.length);
  expect(tests.size, 'tests hash: one state per seeded test').toBe(seeded.length);
  const finalInRedis = [...tests.values()].filter((v) => FINAL.has(whereOf(v)!)).length;
  expect(Number(meta.done), 'meta.done = tests final in Redis').toBe(finalInRedis);
  if (opts.complete) {
    expect(meta.state, 'run state').toBe('complete');
    expect(report.counts.notRun, 'not-run in a complete run').toBe(0);
    expect(state.queue, 'primary queue empty').toEqual([]);
    expect(state.requeue, 'requeue empty').toEqual([]);
  }

  // The report: each seeded test exactly once, counts that add up, runs well formed (e2e harness).
  checkReport(report, s, seeded);

  // Invariant 2 at the end: each non-final test in exactly one place.
  const activeLeases = new Map(leases.filter((l) => l.st === 'active').map((l) => [l.id, l]));
  const inQueue = new Map<string, number>();
  for (const id of [...state.queue, ...state.requeue]) inQueue.set(id, (inQueue.get(id) ?? 0) + 1);
  for (const [id, n] of inQueue) expect(n, `${id} appears ${n} times in the queues`).toBe(1);
  const queued = new Set(state.queue);
  const requeued = new Set(state.requeue);
  for (const id of seeded) {
    const where = whereOf(tests.get(id));
    expect(where, `${id} has a state in Redis`).toBeDefined();
    if (where === 'q') expect(queued.has(id), `${id} is q: in the primary queue`).toBe(true);
    else if (where === 'r') expect(requeued.has(id), `${id} is r: in the requeue`).toBe(true);
    else if (where!.startsWith('h:')) expect(activeLeases.get(where!.slice(2))?.t.includes(id), `${id} held under an active lease`).toBe(true);
    else {
      expect(FINAL.has(where!), `${id}: unknown place ${where}`).toBe(true);
      expect(inQueue.has(id), `${id} is final and queued`).toBe(false);
    }
  }

  // Invariant 1 and the life of a test, replayed from the history.
  const byTest = new Map<string, HistoryEntry[]>();
  for (const h of history) {
    const list = byTest.get(h.t);
    if (list) list.push(h);
    else byTest.set(h.t, [h]);
  }
  const seededSet = new Set(seeded);
  for (const id of byTest.keys()) expect(seededSet.has(id), `history names an unseeded test ${id}`).toBe(true);
  const reportById = new Map(report.tests.map((t) => [t.id, t]));
  const leaseById = new Map(leases.map((l) => [l.id, l]));
  let lateResultsAccepted = 0;
  let noResultRuns = 0;
  for (const id of seeded) {
    const runs = byTest.get(id) ?? [];
    const rt = reportById.get(id)!;
    const where = whereOf(tests.get(id))!;
    const r = replay(runs, opts.maxAttempts, retries);
    noResultRuns += r.noResult;
    const ctx = `${id}: runs ${JSON.stringify(runs.map((h) => `${h.w}/${h.b}:${h.o}`))}`;
    // Exactly one run made it final, and none came after it: a final status never changes.
    expect(r.after, `${ctx}: runs recorded after the test was final`).toBe(0);
    if (FINAL.has(where)) {
      expect(r.status, `${ctx}: replayed final status vs Redis`).toBe(where);
      expect(rt.status, `${ctx}: report status vs Redis`).toBe(where);
    } else {
      expect(r.status, `${ctx}: not final in Redis but its runs made it final`).toBeNull();
      expect(rt.status, `${ctx}: report status of a test not final`).toBe('not-run');
    }
    if (rt.status === 'lost') expect(r.noResult, `${ctx}: lost after exactly max-attempts runs without a result`).toBe(opts.maxAttempts);
    if (opts.noLost) expect(rt.status, `${ctx}: no test may end lost`).not.toBe('lost');
    // The report lists the same runs, in the same order.
    expect(rt.runs.map((x) => `${x.worker}/${x.batch}:${x.outcome}`), `${id}: report runs vs history`).toEqual(runs.map((h) => `${h.w}/${h.b}:${h.o}`));
    // Every run belongs to a lease that held this test, by that lease's worker.
    for (const h of runs) {
      const l = leaseById.get(h.b);
      expect(l, `${ctx}: lease ${h.b} of a run is unknown`).toBeDefined();
      expect(l!.t.includes(id), `${ctx}: lease ${h.b} did not hold it`).toBe(true);
      expect(l!.w, `${ctx}: lease ${h.b} worker`).toBe(h.w);
    }
    // At most two runs per lease: its end (result or no result) and, for a reclaimed one, one late result.
    const perLease = new Map<string, HistoryEntry[]>();
    for (const h of runs) {
      const list = perLease.get(h.b);
      if (list) list.push(h);
      else perLease.set(h.b, [h]);
    }
    for (const [b, hs] of perLease) {
      if (hs.length === 1) continue;
      expect(hs.length, `${ctx}: lease ${b} recorded more than two runs`).toBe(2);
      expect(leaseById.get(b)!.st, `${ctx}: two runs of lease ${b}: only a reclaimed lease may land a late result`).toBe('reclaimed');
      expect(hs[0].o, `${ctx}: lease ${b}: the first run of a reclaimed lease is its loss`).toBe('lost');
      expect(['passed', 'failed', 'skipped'], `${ctx}: lease ${b}: a late result is a result`).toContain(hs[1].o);
      lateResultsAccepted++;
    }
  }

  // Invariant 2 over time: the leases that held a test never overlap (one holder at a time).
  const nowMs = Date.now();
  const holders = new Map<string, LeaseRecord[]>();
  for (const l of leases) {
    for (const id of l.t) {
      const list = holders.get(id);
      if (list) list.push(l);
      else holders.set(id, [l]);
    }
  }
  for (const [id, ls] of holders) {
    const sorted = [...ls].sort((a, b) => a.s - b.s || Number(a.id) - Number(b.id));
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1];
      const prevEnd = prev.e ?? nowMs;
      expect(prev.st, `${id}: lease ${prev.id} still active while lease ${sorted[i].id} held it too`).not.toBe('active');
      expect(sorted[i].s, `${id}: lease ${sorted[i].id} (from ${sorted[i].s}) claimed it while lease ${prev.id} (${prev.s}..${prevEnd}, ${prev.st}) held it`).toBeGreaterThanOrEqual(prevEnd);
    }
    // A test is claimed once per run it had, never more: every lease holding it ended in a run of it
    // (a released/reclaimed lease records a lost run; a done one, a result).
    const runsOf = (byTest.get(id) ?? []).length;
    const lateOf = ls.filter((l) => l.st === 'reclaimed' && (byTest.get(id) ?? []).filter((h) => h.b === l.id).length === 2).length;
    const open = ls.filter((l) => l.st === 'active').length;
    expect(runsOf - lateOf + open, `${id}: leases holding it vs runs of it`).toBe(ls.length);
  }

  // Invariant 6: every key of the run, and of the server, expires.
  expect(state.keys.size, 'the run has keys').toBeGreaterThan(0);
  const noTtl = [...state.keys].filter(([, t]) => t < 0).map(([k, t]) => `${k} (${t})`);
  expect(noTtl, 'keys of the run without a TTL').toEqual([]);
  expect(state.keysWithoutTtl, 'keys of the server without a TTL').toEqual([]);

  const figures: RunFigures = {
    tests: seeded.length,
    runs: history.length,
    noResultRuns,
    leases: leases.length,
    reclaimedLeases: leases.filter((l) => l.st === 'reclaimed').length,
    releasedLeases: leases.filter((l) => l.st === 'released').length,
    lateResultsAccepted,
    workersSeen: new Set(leases.map((l) => l.w)).size,
    counts: report.counts,
  };
  return { report, state, figures };
}

/**
 * The exit status a worker process should have (README, "Exit status"): 1 when a test it ran ended failed
 * or lost by its own report, else 0. Runs are attributed by worker id and time (a replacement may reuse
 * the id of a killed job).
 */
export function expectedWorkerExit(workerId: string, startedAt: number, endedAt: number, state: RunState, report: Report): number {
  const lastRun = new Map<string, HistoryEntry>();
  for (const h of state.history) lastRun.set(h.t, h);
  for (const t of report.tests) {
    if (t.status !== 'failed' && t.status !== 'lost') continue;
    const last = lastRun.get(t.id);
    // A run made final by this process's report: a result, or a loss it reported itself (no reaper message).
    if (!last || last.w !== workerId || last.e < startedAt - 1000 || last.e > endedAt + 1000) continue;
    if (t.status === 'failed' || last.m === '') return 1;
  }
  return 0;
}

/** The last non-empty line of an action's output. */
export function lastLine(run: ActionRun): string {
  return run.output().trim().split('\n').at(-1) ?? '';
}

/** A one-line JSON of figures, prefixed so they are easy to grep from the suite's output. */
export function printFigures(name: string, figures: Record<string, unknown>): void {
  console.log(`CHAOS-FIGURES ${name} ${JSON.stringify(figures)}`);
}
