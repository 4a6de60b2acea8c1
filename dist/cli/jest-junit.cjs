'use strict';
// Written by shardless (runner presets): a jest reporter writing JUnit XML to $SHARDLESS_JUNIT.
const { writeJUnit } = require('./junit.cjs');

class ShardlessJUnit {
  onRunComplete(_contexts, results) {
    const cases = [];
    for (const suite of results.testResults) {
      const file = suite.testFilePath;
      if (suite.testExecError || (suite.failureMessage && suite.testResults.length === 0)) {
        cases.push({ file, name: 'test file', outcome: 'failed', seconds: 0,
          message: suite.failureMessage || (suite.testExecError && suite.testExecError.message) || 'the test file failed to run' });
      }
      for (const t of suite.testResults) {
        cases.push({
          file, name: t.fullName || t.title, classname: t.ancestorTitles.join(' ') || file, seconds: (t.duration || 0) / 1000,
          outcome: t.status === 'failed' ? 'failed' : t.status === 'passed' ? 'passed' : 'skipped',
          message: (t.failureMessages || []).join('\n'),
        });
      }
    }
    writeJUnit(cases);
  }
}
module.exports = ShardlessJUnit;
