// The merged JUnit (junit-output): one testcase per test of the run, its final status as the verdict and
// its runs in system-out. (Reading the runners' JUnit is src/report/junit-read.ts, the worker's.)
import { firstLine, lastRun, seconds } from './format.js';
import { xmlAttr, xmlText } from './escape.js';
import type { Report } from '../types.js';

type ReportTest = Report['tests'][number];
type ReportRun = ReportTest['runs'][number];

export function renderJUnit(report: Report): string {
  const c = report.counts;
  const totals =
    `tests="${c.total}" failures="${c.failed}" errors="${c.lost}" ` +
    `skipped="${c.skipped + c.notRun}" time="${seconds(report.durationMs)}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="shardless" ${totals}>`,
    `  <testsuite name="${xmlAttr(`shardless ${report.queue}`)}" ${totals}>`,
    ...report.tests.map(testcase),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function testcase(t: ReportTest): string {
  const id = xmlAttr(t.id);
  const lines = [
    `    <testcase name="${id}" classname="${id}" time="${seconds(t.durationMs)}">`,
    '      <properties>',
    `        <property name="shardless.status" value="${t.status}"/>`,
    `        <property name="shardless.runs" value="${t.runs.length}"/>`,
    '      </properties>',
  ];
  const verdict = testcaseVerdict(t);
  if (verdict) lines.push(`      ${verdict}`);
  if (t.runs.length > 0) lines.push(`      <system-out>${xmlText(describeRuns(t.runs))}</system-out>`);
  lines.push('    </testcase>');
  return lines.join('\n');
}

function testcaseVerdict(t: ReportTest): string {
  switch (t.status) {
    case 'failed': {
      const message = lastRun(t, 'failed')?.message ?? '';
      return `<failure message="${xmlAttr(firstLine(message))}" type="failed">${xmlText(message)}</failure>`;
    }
    case 'lost': {
      const n = t.runs.filter((r) => r.outcome === 'lost' || r.outcome === 'timeout').length;
      return `<error type="lost" message="lost after ${n} ${n === 1 ? 'run' : 'runs'} without a result"/>`;
    }
    case 'not-run':
      return '<skipped message="not run"/>';
    case 'skipped':
      return '<skipped/>';
    default:
      return ''; // passed and flaky are passing testcases; flaky shows in its properties and runs
  }
}

function describeRuns(runs: ReportRun[]): string {
  return runs
    .map((r, i) => {
      const head =
        `run ${i + 1}: ${r.outcome} on worker ${r.worker}, batch ${r.batch}` +
        `${r.isolated ? ' (isolated)' : ''}, ${seconds(r.durationMs)} s`;
      const body = r.message ? `\n  ${r.message.replace(/\n/g, '\n  ')}` : '';
      return head + body;
    })
    .join('\n');
}
