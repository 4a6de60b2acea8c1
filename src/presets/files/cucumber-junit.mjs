// Written by shardless (runner presets): a cucumber-js formatter writing JUnit XML that names each
// scenario's feature file (cucumber's own names the feature).
import { toJUnit } from './junit.cjs';

const RANK = { UNKNOWN: 0, PASSED: 1, SKIPPED: 2, PENDING: 3, UNDEFINED: 4, AMBIGUOUS: 5, FAILED: 6 };

export default {
  type: 'formatter',
  formatter({ on, write }) {
    const pickles = new Map();
    const testCases = new Map();
    const runs = new Map();
    const cases = [];
    on('message', (m) => {
      if (m.pickle) pickles.set(m.pickle.id, m.pickle);
      else if (m.testCase) testCases.set(m.testCase.id, m.testCase);
      else if (m.testCaseStarted) runs.set(m.testCaseStarted.id, { testCaseId: m.testCaseStarted.testCaseId, status: 'UNKNOWN', seconds: 0, message: '' });
      else if (m.testStepFinished) {
        const run = runs.get(m.testStepFinished.testCaseStartedId);
        const r = m.testStepFinished.testStepResult;
        if (!run) return;
        if ((RANK[r.status] || 0) > RANK[run.status]) {
          run.status = r.status;
          run.message = r.message || (r.exception && r.exception.message) || r.status.toLowerCase();
        }
        if (r.duration) run.seconds += r.duration.seconds + r.duration.nanos / 1e9;
      } else if (m.testCaseFinished) {
        const run = runs.get(m.testCaseFinished.testCaseStartedId);
        if (!run || m.testCaseFinished.willBeRetried) return;
        const testCase = testCases.get(run.testCaseId);
        const pickle = testCase && pickles.get(testCase.pickleId);
        if (!pickle) return;
        cases.push({
          file: pickle.uri, name: pickle.name, seconds: run.seconds, message: run.message,
          outcome: RANK[run.status] >= RANK.PENDING ? 'failed' : run.status === 'SKIPPED' ? 'skipped' : 'passed',
        });
      } else if (m.parseError) {
        cases.push({ file: (m.parseError.source && m.parseError.source.uri) || '', name: 'feature file', outcome: 'failed', seconds: 0, message: m.parseError.message });
      } else if (m.testRunFinished) {
        write(toJUnit(cases));
      }
    });
  },
};
