// Run settings for tests that reset a run in Redis themselves (without the controller's plan).
import type { RunSettings } from '../../src/queue/queue.js';

/**
 * Every field of RunSettings: fixed-size batches of 3 tests (no batch target, no start cost, no cuts,
 * no guess), 3 attempts, no retries, no batch timeout, heartbeat-ttl 30 s, no-worker-timeout 600 s,
 * no failure limit, workers unknown. A test overrides the fields it is about.
 */
export function runSettings(over: Partial<RunSettings> = {}): RunSettings {
  return {
    batchSize: 3, maxAttempts: 3, retries: 0, batchTimeout: 0, heartbeatTtl: 30, maxFailures: 0,
    batchMs: 0, share: 0.5, startMs: 0, cutStarts: 0, minStarts: 1, slackMs: 0, guessMs: 0,
    workers: 0, noWorkerTimeout: 600, ...over,
  };
}
