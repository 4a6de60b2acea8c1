// The cost model: what a test costs (a smoothed value over runs) and what starting a batch costs,
// learnt from batch wall times, and kept per queue outside the run's keys with a long TTL.
//
// Wall time is the truth: a runner's JUnit times leave out import, environment and collection, which
// are most of a file's real cost, while the start cost is paid once per batch. So:
//   start cost  = median over batches of (wall - sum of the members' known costs), a member's cost being
//                 its prior cost, else its JUnit time x k, k fitted over the run's batches (junitScale)
//   a test cost = its share of (wall - start cost), split by JUnit times where present, else by prior
//                 costs when all members have one, else evenly; folded into an exponential moving average.
import type { RedisClient } from './redis.js';
import { repoPart, tagPart } from './keys.js';
import type { HistoryEntry, RunData } from './types.js';

/** Weight of the newest observation in the moving average. */
export const ALPHA = 0.5;
/** Guess for a test when nothing is known. */
export const DEFAULT_COST_MS = 1_000;
/** The history of a queue outlives the runs that feed it. */
export const TIMINGS_TTL_S = 30 * 86_400;

export interface Timings {
  costs: Map<string, number>;
  /** Per-batch start cost, ms; null when never measured. */
  startMs: number | null;
}

export function timingsKeys(repository: string, queue: string): { costs: string; meta: string } {
  // A literal prefix no run key has (runs are shardless:{...}), so no run id can collide with it.
  const tag = `{${repoPart(repository)}/${tagPart(queue)}}`;
  return { costs: `shardless:timings:${tag}:costs`, meta: `shardless:timings:${tag}:meta` };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Estimated cost of each test: known, else the median of the known ones, else a fixed guess. */
export function estimate(ids: string[], t: Timings): Map<string, number> {
  const known = ids.map((id) => t.costs.get(id)).filter((c): c is number => c !== undefined);
  const guess = known.length > 0 ? median(known) : DEFAULT_COST_MS;
  return new Map(ids.map((id) => [id, t.costs.get(id) ?? guess]));
}

/** Longest first; ties keep the listed order (sort is stable). */
export function longestFirst(ids: string[], est: Map<string, number>): string[] {
  return [...ids].sort((a, b) => (est.get(b) ?? 0) - (est.get(a) ?? 0));
}

interface Observed { wall: number; members: HistoryEntry[] }

/** Batches that ended normally with a result for each member: the only ones whose wall time says something. */
function observedBatches(data: RunData): Observed[] {
  const byBatch = new Map<string, HistoryEntry[]>();
  for (const h of data.history) {
    if (h.o !== 'passed' && h.o !== 'failed' && h.o !== 'skipped') continue;
    const list = byBatch.get(h.b) ?? [];
    list.push(h);
    byBatch.set(h.b, list);
  }
  const out: Observed[] = [];
  for (const b of data.batches) {
    const members = byBatch.get(b.id);
    if (b.state !== 'done' || b.endMs === null || !members || members.length !== b.tests.length) continue;
    out.push({ wall: Math.max(0, b.endMs - b.startMs), members });
  }
  return out;
}

/**
 * How real time relates to JUnit time: wall = start + k x (sum of JUnit times), fitted by least squares
 * over the batches whose members all have a JUnit time. k >= 1 (JUnit leaves things out, it never adds
 * any); 1 when the batches' JUnit sums hardly vary, as then the slope cannot be told from the start.
 */
export function junitScale(batches: { wall: number; junit: number }[]): number {
  if (batches.length < 3) return 1;
  const mx = batches.reduce((a, b) => a + b.junit, 0) / batches.length;
  const my = batches.reduce((a, b) => a + b.wall, 0) / batches.length;
  let sxx = 0;
  let sxy = 0;
  for (const b of batches) {
    sxx += (b.junit - mx) ** 2;
    sxy += (b.junit - mx) * (b.wall - my);
  }
  const sd = Math.sqrt(sxx / batches.length);
  if (mx <= 0 || sd < 0.1 * mx) return 1;
  return Math.min(5, Math.max(1, sxy / sxx));
}

/** Folds one run's observations into the timings. */
export function learn(prev: Timings, data: RunData): Timings {
  const batches = observedBatches(data);
  // Start cost: what a batch shows beyond its members' costs, a prior cost where known, else the JUnit
  // time scaled up by k (a runner's JUnit leaves out imports and collection: time that grows with the
  // batch, unlike the start cost). Without the scale, that left-out time would count as start cost.
  const k = junitScale(batches.filter((b) => b.members.every((m) => m.j)).map((b) => ({ wall: b.wall, junit: b.members.reduce((a, m) => a + m.d, 0) })));
  const residuals: number[] = [];
  for (const { wall, members } of batches) {
    let sum = 0;
    let usable = true;
    for (const m of members) {
      const c = prev.costs.get(m.t) ?? (m.j ? k * m.d : undefined);
      if (c === undefined) {
        usable = false;
        break;
      }
      sum += c;
    }
    if (usable) residuals.push(wall - sum);
  }
  let startMs = residuals.length > 0 ? Math.max(0, median(residuals)) : prev.startMs;
  if (startMs !== null && prev.startMs !== null && residuals.length > 0) startMs = ALPHA * startMs + (1 - ALPHA) * prev.startMs;

  const costs = new Map(prev.costs);
  const start = startMs ?? 0;
  for (const { wall, members } of batches) {
    const work = Math.max(0, wall - start);
    const weights = members.map((m) => (m.j ? m.d : prev.costs.get(m.t)));
    const allWeighted = weights.every((w) => w !== undefined) && weights.reduce((a, w) => a + (w ?? 0), 0) > 0;
    const total = allWeighted ? weights.reduce((a, w) => a + (w ?? 0), 0) : members.length;
    members.forEach((m, i) => {
      const observed = (work * (allWeighted ? (weights[i] ?? 0) : 1)) / total;
      const old = costs.get(m.t);
      costs.set(m.t, old === undefined ? observed : ALPHA * observed + (1 - ALPHA) * old);
    });
  }
  return { costs, startMs };
}

export async function loadTimings(redis: RedisClient, repository: string, queue: string, ids: string[]): Promise<Timings> {
  const keys = timingsKeys(repository, queue);
  const costs = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    const vals = await redis.hmget(keys.costs, ...chunk);
    chunk.forEach((id, j) => {
      const v = Number(vals[j]);
      if (vals[j] !== null && Number.isFinite(v) && v >= 0) costs.set(id, v);
    });
  }
  const start = Number(await redis.hget(keys.meta, 'startMs'));
  return { costs, startMs: Number.isFinite(start) && (await redis.hexists(keys.meta, 'startMs')) ? start : null };
}

export async function saveTimings(redis: RedisClient, repository: string, queue: string, t: Timings, only: Iterable<string>): Promise<void> {
  const keys = timingsKeys(repository, queue);
  const pipe = redis.pipeline();
  let batch: string[] = [];
  for (const id of only) {
    const c = t.costs.get(id);
    if (c === undefined) continue;
    batch.push(id, String(Math.round(c)));
    if (batch.length >= 2000) {
      pipe.hset(keys.costs, ...batch);
      batch = [];
    }
  }
  if (batch.length) pipe.hset(keys.costs, ...batch);
  if (t.startMs !== null) pipe.hset(keys.meta, 'startMs', String(Math.round(t.startMs)));
  pipe.expire(keys.costs, TIMINGS_TTL_S);
  pipe.expire(keys.meta, TIMINGS_TTL_S);
  await pipe.exec();
}
