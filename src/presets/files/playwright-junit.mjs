// Written by shardless (runner presets): a playwright reporter writing JUnit XML to $SHARDLESS_JUNIT,
// with absolute file paths (playwright's own names them relative to testDir).
import { writeJUnit } from './junit.cjs';

export default class ShardlessJUnit {
  constructor() {
    this.results = new Map();
    this.errors = [];
  }
  printsToStdio() {
    return false;
  }
  onTestEnd(test, result) {
    this.results.set(test, result); // the last retry's
  }
  onError(error) {
    if (error.location && error.location.file) this.errors.push(error);
  }
  onEnd() {
    const cases = [];
    for (const [test, result] of this.results) {
      const outcome = test.outcome(); // expected, unexpected, flaky or skipped
      cases.push({
        file: test.location.file, name: test.titlePath().slice(3).join(' › '), seconds: result.duration / 1000,
        outcome: outcome === 'unexpected' ? 'failed' : outcome === 'skipped' ? 'skipped' : 'passed',
        message: result.error ? result.error.stack || result.error.message || '' : '',
      });
    }
    for (const e of this.errors) cases.push({ file: e.location.file, name: 'test file', outcome: 'failed', seconds: 0, message: e.stack || e.message || '' });
    writeJUnit(cases);
  }
}
