// src/sizing: how batches are sized, in one place. costmodel.ts is what the controller seeds (the
// queue's order, the sizing settings) and what it learns from a run's records; cost.lua is its Lua half
// (learning within a run, and the sizing rule of each claim), which src/queue/scripts.ts prepends to
// every script; timings.ts stores what was learnt per queue, timings-file.ts reads and writes it as a
// file, split.ts splits tests into static shares by estimated cost. The equations: docs/benchmarks.md.
export { DEFAULT_COST_MS, autoBatchMs, estimate, learn, longestFirst, plan, type Plan, type Timings } from './costmodel.js';
export { loadTimings, saveTimings, TIMINGS_TTL_S } from './timings.js';
export { parseTimingsJson, timingsFromFiles, timingsJson, writeTimingsFile } from './timings-file.js';
export { staticShares } from './split.js';
