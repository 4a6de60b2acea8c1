// The stored timings of a queue: what each test costs and the per-batch start cost, as the cost model
// (src/sizing/costmodel.ts) learnt them, kept per queue outside the run's keys with a long TTL. Timings in
// files (timings-output, timings-file): src/sizing/timings-file.ts.
import { hmgetChunked, timingsKeys, type RedisClient } from '../queue/index.js';
import type { Timings } from './costmodel.js';

/** The history of a queue outlives the runs that feed it. */
export const TIMINGS_TTL_S = 30 * 86_400;

export async function loadTimings(redis: RedisClient, repository: string, queue: string, ids: string[]): Promise<Timings> {
  const keys = timingsKeys(repository, queue);
  const costs = new Map<string, number>();
  const vals = await hmgetChunked(redis, keys.costs, ids);
  ids.forEach((id, j) => {
    const v = Number(vals[j]);
    if (vals[j] !== null && Number.isFinite(v) && v >= 0) costs.set(id, v);
  });
  const start = Number(await redis.hget(keys.meta, 'startMs'));
  const t: Timings = { costs, startMs: Number.isFinite(start) && (await redis.hexists(keys.meta, 'startMs')) ? start : null };
  const measured = Number(await redis.hget(keys.meta, 'measured'));
  if (Number.isFinite(measured) && measured >= 0 && measured <= 1 && (await redis.hexists(keys.meta, 'measured'))) t.measured = measured;
  return t;
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
  if (t.measured !== undefined) pipe.hset(keys.meta, 'measured', String(t.measured));
  pipe.expire(keys.costs, TIMINGS_TTL_S);
  pipe.expire(keys.meta, TIMINGS_TTL_S);
  await pipe.exec();
}
