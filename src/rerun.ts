// Re-runs of a workflow (GITHUB_RUN_ATTEMPT > 1): the previous attempt's results, while Redis still
// has them, decide what a later attempt runs.
import type { Redis } from 'ioredis';
import type { CommonConfig } from './inputs.js';
import { runKeys, type RunKeys } from './keys.js';

const FAILED = new Set(['failed', 'lost']);

export function previousKeys(cfg: CommonConfig): RunKeys | null {
  if (!cfg.runIdDefaulted || cfg.runAttempt <= 1) return null;
  return runKeys(cfg.repository, cfg.queue, `${cfg.githubRunId}-${cfg.runAttempt - 1}`);
}

/** The controller records the verdict of a run in its meta hash when it ends. */
export async function recordVerdict(redis: Redis, keys: RunKeys, passed: boolean): Promise<void> {
  await redis.hset(keys.meta, 'result', passed ? 'passed' : 'failed');
}

export async function previousAttemptPassed(redis: Redis, cfg: CommonConfig): Promise<boolean> {
  const keys = previousKeys(cfg);
  return keys ? (await redis.hget(keys.meta, 'result')) === 'passed' : false;
}

/**
 * Tests of the previous attempt that did not pass (failed, lost or never run), in the order given,
 * or null when that attempt's results are gone (then everything runs).
 */
export async function testsToRerun(redis: Redis, keys: RunKeys, all: string[]): Promise<string[] | null> {
  if ((await redis.exists(keys.tests)) === 0) return null;
  const out: string[] = [];
  for (let i = 0; i < all.length; i += 1000) {
    const chunk = all.slice(i, i + 1000);
    const vals = await redis.hmget(keys.tests, ...chunk);
    chunk.forEach((id, j) => {
      const v = vals[j];
      const where = v ? v.slice(0, v.indexOf('|')) : null;
      // A test the previous attempt never listed is new: run it.
      if (where === null || FAILED.has(where) || where === 'q' || where === 'r' || where.startsWith('h:')) out.push(id);
    });
  }
  return out;
}
