// The stored timings of a queue: what each test costs and the per-batch start cost, as the cost model
// (src/costmodel.ts) learnt them, kept per queue outside the run's keys with a long TTL; and costs
// picked up from an earlier run's JUnit files.
import * as core from '@actions/core';
import * as glob from '@actions/glob';
import type { RedisClient } from './redis.js';
import { repoPart, tagPart } from './keys.js';
import { isAbsolute, join } from 'node:path';
import { readJUnitFiles } from './junit.js';
import { INPUT } from './names.js';
import type { Timings } from './costmodel.js';

/** The history of a queue outlives the runs that feed it. */
export const TIMINGS_TTL_S = 30 * 86_400;

export function timingsKeys(repository: string, queue: string): { costs: string; meta: string } {
  // A literal prefix no run key has (runs are shardless:{...}), so no run id can collide with it.
  const tag = `{${repoPart(repository)}/${tagPart(queue)}}`;
  return { costs: `shardless:timings:${tag}:costs`, meta: `shardless:timings:${tag}:meta` };
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

/** Costs of tests not known yet, from JUnit reports of an earlier run (e.g. a downloaded artifact). */
export async function timingsFromJUnit(t: Timings, pattern: string, ids: string[], cwd: string): Promise<Timings> {
  const globber = await glob.create(isAbsolute(pattern) ? pattern : join(cwd, pattern), { matchDirectories: false });
  const files = await globber.glob();
  if (files.length === 0) {
    core.warning(`Input '${INPUT.timingsFile}': '${pattern}' matched no file`);
    return t;
  }
  const { results, warnings } = readJUnitFiles(files, ids, cwd);
  for (const w of warnings) core.warning(w);
  const costs = new Map(t.costs);
  for (const [id, r] of results) if (!costs.has(id)) costs.set(id, r.durationMs);
  return { ...t, costs };
}
