// The one place that defines the names the contract (README "Reference", docs/protocol.md) fixes:
// inputs, outputs, environment variables given to the command, statuses and outcomes.

export const INPUT = {
  mode: 'mode',
  redisUrl: 'redis-url',
  redisCa: 'redis-ca',
  redisInsecure: 'redis-insecure',
  redisCluster: 'redis-cluster',
  queue: 'queue',
  runId: 'run-id',
  workingDirectory: 'working-directory',
  runner: 'runner',
  tests: 'tests',
  testsFile: 'tests-file',
  testsCommand: 'tests-command',
  batchSize: 'batch-size',
  batchDuration: 'batch-duration',
  workers: 'workers',
  maxAttempts: 'max-attempts',
  retries: 'retries',
  batchTimeout: 'batch-timeout',
  heartbeatTtl: 'heartbeat-ttl',
  timeout: 'timeout',
  noWorkerTimeout: 'no-worker-timeout',
  maxFailures: 'max-failures',
  failOnFlaky: 'fail-on-flaky',
  timings: 'timings',
  timingsFile: 'timings-file',
  timingsOutput: 'timings-output',
  fallback: 'fallback',
  ttl: 'ttl',
  reportOutput: 'report-output',
  junitOutput: 'junit-output',
  command: 'command',
  junit: 'junit',
  workerId: 'worker-id',
  workerIndex: 'worker-index',
  shell: 'shell',
  runnerArgs: 'runner-args',
  reportsDir: 'reports-dir',
} as const;

export const OUTPUT = {
  total: 'total',
  passed: 'passed',
  failed: 'failed',
  flaky: 'flaky',
  lost: 'lost',
  skipped: 'skipped',
  notRun: 'not-run',
  failedTests: 'failed-tests',
  flakyTests: 'flaky-tests',
  lostTests: 'lost-tests',
  report: 'report',
  junit: 'junit',
  batches: 'batches',
  tests: 'tests',
  fallback: 'fallback',
} as const;

/** Environment given to the user's command for each batch. */
export const CMD_ENV = {
  tests: 'SHARDLESS_TESTS',
  testsFile: 'SHARDLESS_TESTS_FILE',
  junit: 'SHARDLESS_JUNIT',
  worker: 'SHARDLESS_WORKER',
  batch: 'SHARDLESS_BATCH',
  isolated: 'SHARDLESS_ISOLATED',
  attempt: 'SHARDLESS_ATTEMPT',
  costs: 'SHARDLESS_COSTS',
  reportsDir: 'SHARDLESS_REPORTS_DIR',
  reportName: 'SHARDLESS_REPORT_NAME',
} as const;

/** reports-dir's default: relative to the worker's working folder (the workspace, on GitHub Actions). */
export const DEFAULT_REPORTS_DIR = 'shardless-reports';

/** Environment read by shardless itself. */
export const ENV = {
  redisUrl: 'SHARDLESS_REDIS_URL',
  redisUrlFallback: 'REDIS_URL',
} as const;

/** Environment read by shardless for its own tests only: shorter Redis windows (milliseconds). */
export const TEST_ENV = {
  connectTimeoutMs: 'SHARDLESS_TEST_CONNECT_TIMEOUT_MS',
  reconnectWindowMs: 'SHARDLESS_TEST_RECONNECT_WINDOW_MS',
} as const;

/** Placeholders in `command`. */
export const PLACEHOLDER = {
  tests: '{tests}',
  testsFile: '{tests-file}',
  junit: '{junit}',
} as const;
