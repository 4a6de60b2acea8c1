// Written by shardless (runner presets): a vitest reporter that writes the whole cost of each test file,
// as vitest measured it, to $SHARDLESS_COSTS as { "<file>": ms }. JUnit's times hold the tests alone;
// this adds the environment's set-up, the runner's preparation, the import and collection of the file
// and its setup files, which on a real suite are most of what a file costs.

import { writeFileSync } from 'node:fs';

/** A module's cost in ms: everything its diagnostic() measured. */
export function moduleCost(testModule) {
  const d = testModule.diagnostic();
  const parts = [d.environmentSetupDuration, d.prepareDuration, d.collectDuration, d.setupDuration, d.duration];
  return parts.reduce((sum, ms) => sum + (Number.isFinite(ms) && ms > 0 ? ms : 0), 0);
}

export default class ShardlessCosts {
  constructor() {
    this.costs = {};
  }
  onTestRunStart() {
    this.costs = {}; // a warm runner runs several batches
  }
  onTestModuleEnd(testModule) {
    // A file that several projects run costs the sum of its runs.
    this.costs[testModule.moduleId] = (this.costs[testModule.moduleId] || 0) + moduleCost(testModule);
  }
  onTestRunEnd() {
    const path = process.env.SHARDLESS_COSTS;
    if (path) writeFileSync(path, JSON.stringify(this.costs));
  }
}
