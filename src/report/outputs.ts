// The action's outputs of a finished run (names in src/names.ts OUTPUT), from its report.
import { OUTPUT } from '../names.js';
import type { Report, TestStatus } from '../types.js';

export function reportOutputs(report: Report, reportPath: string, junitPath: string): Record<string, string> {
  const c = report.counts;
  const ids = (status: TestStatus) =>
    report.tests
      .filter((t) => t.status === status)
      .map((t) => t.id)
      .join('\n');
  return {
    [OUTPUT.total]: String(c.total),
    [OUTPUT.passed]: String(c.passed),
    [OUTPUT.failed]: String(c.failed),
    [OUTPUT.flaky]: String(c.flaky),
    [OUTPUT.lost]: String(c.lost),
    [OUTPUT.skipped]: String(c.skipped),
    [OUTPUT.notRun]: String(c.notRun),
    [OUTPUT.failedTests]: ids('failed'),
    [OUTPUT.flakyTests]: ids('flaky'),
    [OUTPUT.lostTests]: ids('lost'),
    [OUTPUT.report]: reportPath,
    [OUTPUT.junit]: junitPath,
  };
}
