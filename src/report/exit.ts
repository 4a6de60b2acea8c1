// Why the controller exits 1: one line naming what failed, was lost or did not run, or null for exit 0.
import { oneLine } from './format.js';
import type { Report, RunData, TestStatus } from '../types.js';

const REASON_IDS = 5;

/** null when the controller should exit 0; otherwise the one-line reason it exits 1. */
export function exitReason(report: Report, data: RunData, failOnFlaky: boolean): string | null {
  const c = report.counts;
  const flakyFails = failOnFlaky && c.flaky > 0;
  if (report.status === 'passed' && !flakyFails) return null;

  const parts: string[] = [];
  if (data.state === 'aborted') parts.push(`run aborted: ${oneLine(data.abortReason) || 'no reason given'}`);
  else if (data.state !== 'complete') parts.push(`run did not complete (state ${data.state})`);
  if (c.failed > 0 || c.lost > 0) {
    const what =
      c.failed > 0 && c.lost > 0
        ? `${tests(c.failed)} failed, ${c.lost} lost`
        : c.failed > 0
          ? `${tests(c.failed)} failed`
          : `${tests(c.lost)} lost`;
    parts.push(`${what}: ${idList(report, (s) => s === 'failed' || s === 'lost')}`);
  }
  if (c.notRun > 0) parts.push(`${tests(c.notRun)} not run`);
  if (flakyFails) parts.push(`${tests(c.flaky)} flaky (fail-on-flaky): ${idList(report, (s) => s === 'flaky')}`);
  return parts.join('; ');
}

function tests(n: number): string {
  return `${n} ${n === 1 ? 'test' : 'tests'}`;
}

function idList(report: Report, pick: (s: TestStatus) => boolean): string {
  const ids = report.tests.filter((t) => pick(t.status)).map((t) => oneLine(t.id));
  const shown = ids.slice(0, REASON_IDS).join(', ');
  return ids.length > REASON_IDS ? `${shown}, … (${ids.length - REASON_IDS} more)` : shown;
}
