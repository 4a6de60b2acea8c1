// Typed calls of the Lua scripts (lua/), one Redis round trip each; reading a run's records back is
// records.ts's.
import { randomUUID } from 'node:crypto';
import type { Redis, Cluster } from 'ioredis';
import { defineScripts, type ScriptClient } from './scripts.js';
import { scriptKeys, type RunKeys } from './keys.js';
import { finalOf, parseJson, readRun, readTests } from './records.js';
import type { BatchEnd, FinalStatus, RunData, RunState, TestResult } from '../types.js';

/** Run-wide settings the controller publishes to the workers. */
export interface RunSettings {
  batchSize: number;
  maxAttempts: number;
  retries: number;
  batchTimeout: number;
  heartbeatTtl: number;
  maxFailures: number;
  /** Target ms of estimated work per batch (0: batches of batchSize tests). */
  batchMs: number;
  /** Part of a fair share of the work left that one batch takes (adaptive batches). */
  share: number;
  /** Estimated per-batch start cost, ms. */
  startMs: number;
  /** How many start costs of work a cut must be worth (claim.lua); 0 cuts freely (costs mostly guessed). */
  cutStarts: number;
  /** The least batch target, in start costs (claim.lua). */
  minStarts: number;
  /** How far a whole share or the last crumbs may take a batch past batchMs (claim.lua). */
  slackMs: number;
  /** Estimated ms of a test no earlier run measured, until this run's batches say (cost.lua). */
  guessMs: number;
  /** Workers expected (0: unknown): early claims size their share for all of them, not only those registered. */
  workers: number;
  /** Seconds a worker waits for a controller that stopped heartbeating. */
  noWorkerTimeout: number;
}

export type ClaimReply =
  | { kind: 'ok'; lease: string; isolated: boolean; attempt: number; tests: string[] }
  | { kind: 'empty' | 'wait' | 'stale' }
  | { kind: 'done'; state: RunState; reason: string };

export interface RegisterReply { kind: 'ok'; epoch: string; state: RunState; reason: string; heartbeatTtl: number; batchTimeout: number; noWorkerTimeout: number }
/** Another live instance holds the worker id (its heartbeat key expires in expiresInMs unless refreshed). */
export interface RegisterClash { kind: 'clash'; expiresInMs: number }
export type HeartbeatReply = { kind: 'ok' | 'reclaimed'; state: RunState; reason: string; controllerAlive: boolean } | { kind: 'stale' };
/** unknown: Redis has no such lease (it lost its last writes); fenced like a reclaimed lease. */
export interface ReportReply { kind: 'ok' | 'fenced' | 'unknown' | 'stale'; finals: Record<string, FinalStatus> }
export interface Progress {
  state: RunState; reason: string; total: number; done: number; queued: number; requeued: number;
  running: number; live: number; nowMs: number; reaped: string[];
  /** Estimated ms of work left in the primary queue and the active leases (from timings). */
  workLeftMs: number;
  /** Ms until the first live worker's heartbeat key expires; -1 with no live worker. */
  nextExpiryMs: number;
}

const SEED_CHUNK = 1000;

export class Queue {
  readonly redis: ScriptClient;

  /**
   * `instance`: this process's token, kept in the worker record at register, so that a second live
   * process given the same worker id is told apart from a restart of a dead one.
   */
  constructor(redis: Redis | Cluster, readonly keys: RunKeys, readonly instance: string = randomUUID()) {
    this.redis = defineScripts(redis);
  }

  private k(hb = this.keys.controller): string[] {
    return scriptKeys(this.keys, hb);
  }

  private hb(worker: string): string {
    return this.keys.hbPrefix + worker;
  }

  async reset(epoch: string, ttl: number, settings: RunSettings): Promise<void> {
    const pairs = Object.entries(settings).flatMap(([k, v]) => [k, String(v)]);
    await this.redis.sl_reset(...this.k(), epoch, ttl, ...pairs);
  }

  /** Seeds in order, in chunks sent as one pipeline, each test with its estimated cost in ms; a test missing from costs is unknown (it costs the run's guess). */
  async seed(epoch: string, tests: string[], costs: Map<string, number> = new Map()): Promise<void> {
    const pipe = this.redis.pipeline() as unknown as ScriptClient & { exec(): Promise<[Error | null, unknown][] | null> };
    for (let i = 0; i < tests.length; i += SEED_CHUNK) {
      const args = tests.slice(i, i + SEED_CHUNK).flatMap((id) => {
        const c = costs.get(id);
        return [id, c === undefined ? '' : String(Math.round(c))];
      });
      pipe.sl_seed(...this.k(), epoch, ...args);
    }
    const res = (await pipe.exec()) ?? [];
    for (const [err, reply] of res) {
      if (err) throw err;
      if (reply === 'stale') throw new Error('the run was reset by another controller while seeding');
    }
  }

  async start(epoch: string): Promise<number> {
    const r = await this.redis.sl_start(...this.k(), epoch);
    if (r === 'stale') throw new Error('the run was reset by another controller');
    return Number(r);
  }

  /** Redis's clock, in ms (the scripts' time). */
  async redisTimeMs(): Promise<number> {
    const [s, us] = await this.redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  /** Whether the run is complete or aborted and was reset before `ms` (Redis time). */
  async finishedBefore(ms: number): Promise<boolean> {
    const [state, createdAt] = await this.redis.hmget(this.keys.meta, 'state', 'createdAt');
    return (state === 'complete' || state === 'aborted') && Number(createdAt) < ms;
  }

  async register(worker: string): Promise<RegisterReply | RegisterClash | null> {
    const r = (await this.redis.sl_register(...this.k(this.hb(worker)), worker, this.instance)) as string[] | null;
    if (!r) return null;
    if (r[0] === 'clash') return { kind: 'clash', expiresInMs: Number(r[1]) };
    return { kind: 'ok', epoch: r[0], state: r[1] as RunState, reason: r[2], heartbeatTtl: Number(r[3]), batchTimeout: Number(r[4]), noWorkerTimeout: Number(r[5]) };
  }

  async claim(epoch: string, worker: string): Promise<ClaimReply> {
    const r = (await this.redis.sl_claim(...this.k(this.hb(worker)), epoch, worker, this.instance)) as (string | number)[];
    const kind = String(r[0]);
    if (kind === 'ok') {
      return { kind, lease: String(r[1]), isolated: Number(r[2]) === 1, attempt: Number(r[3]), tests: r.slice(4).map(String) };
    }
    if (kind === 'done') return { kind, state: String(r[1]) as RunState, reason: String(r[2] ?? '') };
    return { kind: kind as 'empty' | 'wait' | 'stale' };
  }

  /** firstOnRunner: a warm runner's first batch (its wall is no warm batch's, for the cost model). */
  async report(epoch: string, worker: string, lease: string, end: BatchEnd, results: Map<string, TestResult>, firstOnRunner = false): Promise<ReportReply> {
    // No prototype: a test named __proto__ is a key like any other.
    const obj: Record<string, { o: string; d: number; m: string; f?: string; l?: number; j?: boolean; c?: number }> = Object.create(null);
    for (const [id, r] of results) {
      const c = r.costMs !== undefined && Number.isFinite(r.costMs) && r.costMs >= 0 ? Math.round(r.costMs) : undefined;
      obj[id] = { o: r.outcome, d: Math.round(r.durationMs), m: r.message, f: r.file, l: r.line, j: r.timed || undefined, c };
    }
    const r = (await this.redis.sl_report(...this.k(this.hb(worker)), epoch, worker, lease, end, JSON.stringify(obj), firstOnRunner ? '1' : '0')) as string[];
    return { kind: r[0] as ReportReply['kind'], finals: parseJson(r[1], {}) };
  }

  async heartbeat(epoch: string, worker: string): Promise<HeartbeatReply> {
    const r = (await this.redis.sl_heartbeat(...this.k(this.hb(worker)), epoch, worker, this.keys.controller, this.instance)) as (string | number)[];
    if (r[0] === 'stale') return { kind: 'stale' };
    return { kind: r[0] as 'ok' | 'reclaimed', state: r[1] as RunState, reason: String(r[2] ?? ''), controllerAlive: Number(r[3]) === 1 };
  }

  /** Hands back the held lease (if any) and leaves the run. Returns the number of tests requeued. */
  async release(epoch: string, worker: string, lease: string, state: 'cancelled' | 'finished'): Promise<number> {
    const r = await this.redis.sl_release(...this.k(this.hb(worker)), epoch, worker, lease, state, this.instance);
    return r === 'stale' ? 0 : Number(r);
  }

  async reap(epoch: string, controllerTtlMs: number): Promise<Progress | null> {
    const r = (await this.redis.sl_reap(...this.k(), epoch, this.keys.hbPrefix, controllerTtlMs)) as (string | number)[] | string;
    if (r === 'stale' || !Array.isArray(r)) return null;
    const n = (i: number) => Number(r[i]);
    return {
      state: String(r[0]) as RunState, reason: String(r[1] ?? ''), total: n(2), done: n(3), queued: n(4),
      requeued: n(5), running: n(6), live: n(7), nowMs: n(8), reaped: parseJson(String(r[9]), [] as string[]),
      workLeftMs: n(10) || 0, nextExpiryMs: r[11] === undefined ? -1 : n(11),
    };
  }

  async abort(epoch: string, reason: string): Promise<string> {
    return String(await this.redis.sl_abort(...this.k(), epoch, reason));
  }

  /** Records the run's verdict in its meta hash; false (nothing written) when the run is gone or was reset. */
  async verdict(epoch: string, passed: boolean): Promise<boolean> {
    return (await this.redis.sl_verdict(...this.k(), epoch, passed ? 'passed' : 'failed')) === 'OK';
  }

  /** The final status of each given test, null while it has none (read in chunks, no script). */
  async finals(ids: string[]): Promise<Map<string, FinalStatus | null>> {
    const records = await readTests(this.redis, this.keys.tests, ids);
    return new Map(ids.map((id) => [id, finalOf(records.get(id))]));
  }

  /** Reads the state of a run (for the controller's report, and a later attempt's re-run). */
  readRun(queue: string, run: string, ids: string[]): Promise<RunData> {
    return readRun(this.redis, this.keys, queue, run, ids);
  }
}
