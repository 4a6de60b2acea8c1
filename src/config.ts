// The run's configuration as the controller and the worker take it: what the action's inputs (or the
// command line's options) say, once src/action/inputs.ts has checked them. Defaults live there.
import type { RunnerName } from './presets/presets.js';

export type Mode = 'controller' | 'worker';
export type Fallback = 'static' | 'fail';

export interface CommonConfig {
  mode: Mode;
  redisUrl: string;
  /** PEM file of the CA that signed the server's certificate (rediss://). */
  redisCa: string;
  /** Skip certificate verification (rediss://): an explicit, warned opt-out. */
  redisInsecure: boolean;
  /** redis-url names Redis Cluster nodes (one URL, or several separated by spaces or commas). */
  redisCluster: boolean;
  queue: string;
  runId: string;
  /** True when run-id was derived from GITHUB_RUN_ID/GITHUB_RUN_ATTEMPT (re-runs apply). */
  runIdDefaulted: boolean;
  /**
   * The run id may name an earlier run that has finished: an explicit run-id (a CI system's retry of the
   * controller), or act, which gives every invocation GITHUB_RUN_ID=1 and GITHUB_RUN_ATTEMPT=1.
   */
  runIdReused: boolean;
  runAttempt: number;
  githubRunId: string;
  repository: string;
  workingDirectory: string;
  /** A runner preset (src/presets): lists the tests and runs a batch when tests and command are not given. */
  runner: RunnerName;
  /** runner-args: words for the preset's runner, in its listing (controller), command and warm runner (worker). */
  runnerArgs: string[];
  noWorkerTimeout: number;
  /** Where the tests come from (the controller seeds them; a worker lists them the same way to fall back). */
  tests: string;
  testsFile: string;
  testsCommand: string;
  /** Workers the run expects (the matrix size); 0: unknown (count the registered ones; no static split). */
  workers: number;
  /** JSON timings or JUnit XML of an earlier run: balance a run (controller) or a static share (worker). */
  timingsFile: string;
  /** Redis unreachable: the workers run static shares ('static') or everything fails ('fail'). */
  fallback: Fallback;
}

export interface ControllerConfig extends CommonConfig {
  mode: 'controller';
  batchSize: number;
  /** Seconds, 0 (off: batches of batch-size tests) or 'auto' (derived from the measured start cost). */
  batchDuration: number | 'auto';
  maxAttempts: number;
  retries: number;
  batchTimeout: number;
  heartbeatTtl: number;
  timeout: number;
  maxFailures: number;
  failOnFlaky: boolean;
  timings: boolean;
  /** Where the learnt timings are written as JSON after the run ('': nowhere). */
  timingsOutput: string;
  ttl: number;
  reportOutput: string;
  junitOutput: string;
}

export interface WorkerConfig extends CommonConfig {
  mode: 'worker';
  command: string;
  junit: string;
  workerId: string;
  /** This worker's 0-based place in the matrix (its static share when Redis is unreachable); null: none. */
  workerIndex: number | null;
  shell: string;
  /** Where the preset's runner writes its own reports, per batch (absolute): see README, "Reports". */
  reportsDir: string;
}
