// Written by shardless (runner presets): a vitest reporter writing JUnit XML, each testcase naming its
// file, to $SHARDLESS_JUNIT at the end of each run. The warm runner uses it: vitest's own JUnit reporter
// fixes its output file once, at start, and a warm runner writes one per batch.

import junit from './junit.cjs';

const messageOf = (errors) => (errors || []).map((e) => e.stack || e.message || String(e)).join('\n');

export default class ShardlessVitestJUnit {
  constructor() {
    /** Files of the batch ({ file, id }) that match no test file of the configuration: each a failed case. */
    this.notFound = [];
  }
  onTestRunEnd(testModules) {
    // Worded as the worker words a cold run's "No test files found" (src/worker/results.ts runnerFoundNoTests).
    const cases = this.notFound.map(({ file, id }) => ({
      file, name: 'test file', outcome: 'failed', seconds: 0,
      message: `vitest found no test to run in ${id}; it is not a test file of the vitest configuration (or of the projects selected)`,
    }));
    for (const m of testModules) {
      const file = m.moduleId;
      const tests = [...m.children.allTests()];
      const errors = m.errors();
      // A file that failed to import or whose hooks failed is a case of its own, as in vitest's JUnit.
      if (errors.length > 0 || (m.state() === 'failed' && tests.length === 0)) {
        cases.push({ file, name: 'test file', outcome: 'failed', seconds: 0, message: messageOf(errors) || 'the test file failed' });
      }
      for (const t of tests) {
        const r = t.result();
        cases.push({
          file, name: t.fullName, classname: file, seconds: ((t.diagnostic() && t.diagnostic().duration) || 0) / 1000,
          outcome: r.state === 'failed' ? 'failed' : r.state === 'passed' ? 'passed' : 'skipped',
          message: messageOf(r.errors),
        });
      }
    }
    junit.writeJUnit(cases);
  }
}
