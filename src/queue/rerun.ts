// Re-runs of a workflow (GITHUB_RUN_ATTEMPT > 1): the previous attempt's results, while Redis still
// has them, decide what a later attempt runs.
import { finalOf, readTests } from './records.js';
import { runKeys, type RunKeys } from './keys.js';
import type { RedisClient } from './redis.js';
import type { CommonConfig } from '../config.js';

// Final statuses that need no re-run; anything else (failed, lost, never finished) runs again.
const PASSED = new Set(['passed', 'flaky', 'skipped']);

export function previousKeys(cfg: CommonConfig): RunKeys | null {
  if (!cfg.runIdDefaulted || cfg.runAttempt <= 1) return null;
  return runKeys(cfg.repository, cfg.queue, `${cfg.githubRunId}-${cfg.runAttempt - 1}`);
}

export async function previousAttemptPassed(redis: RedisClient, cfg: CommonConfig): Promise<boolean> {
  const keys = previousKeys(cfg);
  return keys ? (await redis.hget(keys.meta, 'result')) === 'passed' : false;
}

/**
 * Tests that did not pass in the attempts before this one (failed, lost or never run), in the order
 * given, or null when no earlier attempt's results are left (then everything runs). An attempt that
 * was itself a re-run lists only what it re-ran, so the other ids are looked up further back.
 */
export async function testsToRerun(redis: RedisClient, cfg: CommonConfig, all: string[]): Promise<string[] | null> {
  const again = new Set<string>();
  let pending = all;
  let found = false;
  for (let attempt = cfg.runAttempt - 1; attempt >= 1 && pending.length > 0; attempt--) {
    const keys = runKeys(cfg.repository, cfg.queue, `${cfg.githubRunId}-${attempt}`);
    if ((await redis.exists(keys.tests)) === 0) break;
    found = true;
    const records = await readTests(redis, keys.tests, pending);
    const unlisted = pending.filter((id) => !records.has(id));
    for (const [id, rec] of records) if (!PASSED.has(finalOf(rec) ?? '')) again.add(id);
    pending = unlisted;
  }
  if (!found) return null;
  // Listed by no attempt still in Redis: a new test, so it runs.
  for (const id of pending) again.add(id);
  return all.filter((id) => again.has(id));
}
