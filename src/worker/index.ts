// src/worker: one worker of a run: it claims batches from the queue (src/queue), runs each one, turns
// what it wrote into results, reports them, and hands its work back on SIGINT/SIGTERM.
//   worker.ts       the loop: claim, run, report, until the run is complete or aborted; the signals; runWorker
//   membership.ts   the worker in its run: connecting, registering (worker-id clashes), heartbeats, rejoining,
//                   a restarted run, a lost controller
//   idle.ts         the back-off while waiting for the run to start or for a batch
//   results.ts      a batch's outcome as per-test results (src/report/junit-read.ts, or the exit code rule);
//                   a runner that found no tests
//   costs.ts        the runner's own measured costs of a batch's files
//   batch.ts        BatchRun: one batch of a command (placeholders rendered, output tail kept)
//   batch-files.ts  a batch's fresh folder, tests file and SHARDLESS_* environment
//   junit-files.ts  the JUnit files a batch wrote ({junit}, the junit glob's new or changed matches)
//   process.ts      the batch's process group: killing it whole, the timeout's SIGTERM then SIGKILL, the exec limit
//   warm.ts         a batch inside a warm runner a preset keeps (one long-lived runner process)
//   fallback.ts     a static share of the suite when Redis is unreachable
export { runWorker } from './worker.js';
export { batchResults, runnerFoundNoTests } from './results.js';
export { BatchRun, renderCommand, shellQuote, type BatchOutcome, type BatchSpec } from './batch.js';
export { killProcessGroup } from './process.js';
