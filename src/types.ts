// Shapes shared by the queue, the worker, the controller and the report.

/** Final status of a test (report `tests[].status`). */
export type FinalStatus = 'passed' | 'failed' | 'flaky' | 'lost' | 'skipped';
export type TestStatus = FinalStatus | 'not-run';

/** Outcome of one run of a test (report `tests[].runs[].outcome`). */
export type RunOutcome = 'passed' | 'failed' | 'skipped' | 'lost' | 'timeout' | 'split';

/** A per-test result the worker read from the batch (JUnit or exit code). */
export interface TestResult {
  outcome: 'passed' | 'failed' | 'skipped';
  durationMs: number;
  message: string;
  /** True when durationMs was measured by the runner (JUnit), not derived from the batch's wall time. */
  timed?: boolean;
  /**
   * The whole cost of this test id as the runner itself measured it (for a file: environment, import,
   * collection, set-up and its tests), ms. Set by a preset's reporter; absent when the runner cannot say.
   */
  costMs?: number;
  /** Where the failure points, when JUnit says (for annotations). */
  file?: string;
  line?: number;
}

/**
 * How a batch ended (report.lua ARGV[4]), which decides the run recorded for a test without a result:
 * finished (the command exited by itself) or killed (by a signal): lost; timed-out (batch-timeout):
 * timeout; split (several tests failed without per-test results): split, each runs again alone.
 */
export type BatchEnd = 'finished' | 'timed-out' | 'killed' | 'split';

/** One run of one test, as recorded in Redis (history list). Times are Redis TIME in ms. */
export interface HistoryEntry {
  t: string; // test id
  w: string; // worker id
  b: string; // lease (batch) id
  i: boolean; // isolated (batch from the requeue)
  o: RunOutcome;
  d: number; // duration ms
  m: string; // message
  s: number; // batch start ms
  e: number; // time the run was recorded, ms
  f?: string; // file (failure location)
  l?: number; // line
  j?: boolean; // duration measured by the runner (JUnit)
  c?: number; // the whole cost measured by the runner (TestResult.costMs), ms
}

export type WorkerState = 'alive' | 'dead' | 'cancelled' | 'finished';

export interface WorkerRecord {
  id: string;
  state: WorkerState;
  batches: number;
  tests: number;
  busyMs: number;
  lostBatches: number;
}

/** A batch (lease), as recorded in Redis. */
export interface BatchRecord {
  id: string;
  worker: string;
  startMs: number;
  endMs: number | null;
  isolated: boolean;
  /** A warm runner's first batch, whose wall carries that runner's start (lease record r). */
  firstOnRunner: boolean;
  tests: string[];
  /** active: held; done: reported; reclaimed: worker presumed dead; released: handed back on a signal. */
  state: 'active' | 'done' | 'reclaimed' | 'released';
}

export type RunState = 'seeding' | 'running' | 'complete' | 'aborted';

/** Everything the controller reads back from Redis to write its report. */
export interface RunData {
  queue: string;
  run: string;
  state: RunState;
  abortReason: string;
  seededAtMs: number;
  completedAtMs: number | null;
  nowMs: number;
  /** In seeded order; status is null for a test that never became final. */
  tests: { id: string; status: FinalStatus | null }[];
  history: HistoryEntry[];
  workers: WorkerRecord[];
  batches: BatchRecord[];
}

/** The JSON report, version 1 (docs/protocol.md#the-json-report). */
export interface Report {
  version: 1;
  queue: string;
  run: string;
  status: 'passed' | 'failed' | 'incomplete';
  durationMs: number;
  counts: {
    total: number;
    passed: number;
    failed: number;
    flaky: number;
    lost: number;
    skipped: number;
    notRun: number;
  };
  tests: {
    id: string;
    status: TestStatus;
    durationMs: number;
    runs: {
      worker: string;
      batch: string;
      isolated: boolean;
      outcome: RunOutcome;
      durationMs: number;
      message: string;
    }[];
  }[];
  workers: {
    id: string;
    batches: number;
    tests: number;
    busyMs: number;
    lostBatches: number;
    state: 'finished' | 'dead' | 'cancelled';
  }[];
}
