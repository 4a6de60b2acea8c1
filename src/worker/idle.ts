// Waiting with back-off: for the controller to start the run (membership.ts), and while the queue has no
// batch for this worker (worker.ts).
export const IDLE_MIN_MS = 100;
// At most a quarter second: a worker that waits while others end the last batches sees the run complete
// (or a batch handed back) that soon, and its exit is part of the run's wall. A claim that finds nothing
// is one short script.
export const IDLE_MAX_MS = 250;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
