// src/controller: the one controller of a run. controller.ts seeds the queue (tests from
// src/presets/testlist.ts, order and batch sizes from src/sizing), watches the workers through Redis
// (src/queue: reaps the dead, requeues what they held), then writes the report (src/report) and saves
// what the run taught the cost model.
export { retryTick, runController, timeLeft, type ControllerHooks, type RunEnd, type RunProgress } from './controller.js';
