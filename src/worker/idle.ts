// Waiting with back-off: for the controller to start the run (membership.ts), and while the queue has no
// batch for this worker (worker.ts).
export const IDLE_MIN_MS = 100;
export const IDLE_MAX_MS = 1_000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
