'use strict';
// Written by shardless (runner presets): a jest reporter that writes the whole cost of each test file,
// as jest measured it (perfStats: from the file's start, through its environment, module loading and
// tests, to its end), to $SHARDLESS_COSTS as { "<file>": ms }. Jest's per-test times leave out the rest.
const { writeFileSync } = require('node:fs');

/** A test file's cost in ms, from its result's perfStats. */
function fileCost(testResult) {
  const p = testResult.perfStats || {};
  const ms = p.end - p.start;
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

class ShardlessCosts {
  constructor() {
    this.costs = {};
  }
  onRunStart() {
    this.costs = {}; // a warm runner runs several batches
  }
  onTestResult(_test, testResult) {
    const file = testResult.testFilePath;
    this.costs[file] = (this.costs[file] || 0) + fileCost(testResult);
  }
  onRunComplete() {
    const path = process.env.SHARDLESS_COSTS;
    if (path) writeFileSync(path, JSON.stringify(this.costs));
  }
}
module.exports = ShardlessCosts;
module.exports.fileCost = fileCost;
