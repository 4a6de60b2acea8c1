// The run's records as Redis keeps them, read on this side of the wire: a test's record in the tests
// hash ("where|runs|attempts|fails|passes", docs/protocol.md#the-record-of-a-test), the leases, the
// workers and the history, read in chunks so that no single command blocks Redis on a large run. The
// Lua scripts write these records (lib.lua's pack_test and unpack_test are the other side).
import type { RedisClient } from './redis.js';
import type { RunKeys } from './keys.js';
import type { BatchRecord, FinalStatus, HistoryEntry, RunData, RunState, WorkerRecord, WorkerState } from '../types.js';

/** Fields per HMGET, HSCAN COUNT and LRANGE: one large command would block Redis for every client. */
export const READ_CHUNK = 1000;

/** A test's record: where it is (q, r, h:<lease>, or its final status) and its counters. */
export interface TestRecord { where: string; runs: number; attempts: number; fails: number; passes: number }

const FINALS = new Set<string>(['passed', 'failed', 'flaky', 'lost', 'skipped'] satisfies FinalStatus[]);
const RECORD = /^(.+)\|(\d+)\|(\d+)\|(\d+)\|(\d+)$/;

/** A test's record from its packed form; null when it is not one (lib.lua fails a script on it). */
export function decodeTest(packed: string): TestRecord | null {
  const m = RECORD.exec(packed);
  if (!m) return null;
  return { where: m[1], runs: Number(m[2]), attempts: Number(m[3]), fails: Number(m[4]), passes: Number(m[5]) };
}

/** A test's final status; null when it has none (not final yet, or no readable record). */
export function finalOf(t: TestRecord | null | undefined): FinalStatus | null {
  return t && FINALS.has(t.where) ? (t.where as FinalStatus) : null;
}

/** HMGET of any number of fields, READ_CHUNK at a time: the values in order (null for a missing field). */
export async function hmgetChunked(redis: RedisClient, key: string, fields: string[]): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (let i = 0; i < fields.length; i += READ_CHUNK) out.push(...(await redis.hmget(key, ...fields.slice(i, i + READ_CHUNK))));
  return out;
}

/** The records of the given tests in a tests hash: only the ids it lists, each null when unreadable. */
export async function readTests(redis: RedisClient, testsKey: string, ids: string[]): Promise<Map<string, TestRecord | null>> {
  const vals = await hmgetChunked(redis, testsKey, ids);
  const out = new Map<string, TestRecord | null>();
  ids.forEach((id, i) => {
    const v = vals[i];
    if (v !== null) out.set(id, decodeTest(v));
  });
  return out;
}

/** cjson encodes an empty table as {}: read it as an empty list or object as needed. */
export function parseJson<T>(s: string, empty: T): T {
  const v = JSON.parse(s);
  if (Array.isArray(empty) && !Array.isArray(v)) return empty;
  return v as T;
}

/** Every field of a hash, READ_CHUNK at a time (HSCAN): one HGETALL of a large hash blocks Redis. */
async function scanHash(redis: RedisClient, key: string): Promise<Map<string, string>> {
  const out = new Map<string, string>(); // HSCAN may return a field twice
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(key, cursor, 'COUNT', READ_CHUNK);
    for (let i = 0; i < flat.length; i += 2) out.set(flat[i], flat[i + 1]);
    cursor = next;
  } while (cursor !== '0');
  return out;
}

/** The leases 1..meta.seq (a lease's id is the seq that numbered it). */
async function readLeases(redis: RedisClient, key: string, seq: number): Promise<BatchRecord[]> {
  const ids = Array.from({ length: seq }, (_, j) => String(j + 1));
  const vals = await hmgetChunked(redis, key, ids);
  const out: BatchRecord[] = [];
  ids.forEach((id, j) => {
    const v = vals[j];
    if (!v) return;
    const l = JSON.parse(v);
    out.push({ id, worker: l.w, startMs: l.s, endMs: l.e ?? null, isolated: !!l.i, firstOnRunner: !!l.r, tests: Array.isArray(l.t) ? l.t : [], state: l.st });
  });
  return out;
}

async function readHistory(redis: RedisClient, key: string): Promise<HistoryEntry[]> {
  const history: HistoryEntry[] = [];
  for (let i = 0; ; i += READ_CHUNK) {
    const part = await redis.lrange(key, i, i + READ_CHUNK - 1);
    for (const s of part) history.push(JSON.parse(s) as HistoryEntry);
    if (part.length < READ_CHUNK) return history;
  }
}

/** Reads the state of a run (for the controller's report, and a later attempt's re-run). */
export async function readRun(redis: RedisClient, keys: RunKeys, queue: string, run: string, ids: string[]): Promise<RunData> {
  const [meta, time] = await Promise.all([redis.hgetall(keys.meta), redis.time()]);
  const workersRaw = await scanHash(redis, keys.workers);
  const batches = await readLeases(redis, keys.leases, Number(meta.seq ?? 0));
  const records = await readTests(redis, keys.tests, ids);
  const tests: RunData['tests'] = ids.map((id) => ({ id, status: finalOf(records.get(id)) }));
  const history = await readHistory(redis, keys.history);
  const workers: WorkerRecord[] = [...workersRaw]
    .filter(([id]) => id !== '_')
    .map(([id, v]) => {
      const w = JSON.parse(v);
      return { id, state: w.state as WorkerState, batches: w.batches, tests: w.tests, busyMs: w.busyMs, lostBatches: w.lostBatches };
    });
  const nowMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
  return {
    queue, run, state: (meta.state ?? 'seeding') as RunState, abortReason: meta.reason ?? '',
    seededAtMs: Number(meta.seededAt ?? meta.createdAt ?? nowMs),
    completedAtMs: meta.completedAt ? Number(meta.completedAt) : null, nowMs, tests, history, workers, batches,
  };
}
