// src/worker: one worker of a run. worker.ts claims batches from the queue (src/queue), runs each one
// (batch.ts: a command in its own process group; warm.ts: inside a warm runner a preset keeps), turns
// what it wrote into results (src/report/junit-read.ts, costs.ts: the runner's own costs), reports them,
// and hands its work back on SIGINT/SIGTERM; fallback.ts runs a static share when Redis is unreachable.
export { batchResults, runWorker, runnerFoundNoTests } from './worker.js';
export { BatchRun, renderCommand, shellQuote, type BatchOutcome, type BatchSpec } from './batch.js';
export { killProcessGroup } from './process.js';
