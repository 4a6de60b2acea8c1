// What the job summary says, whatever its markup: its title, its tables' columns and cells, which tests
// each section lists and the words of their lines. summary.ts writes it as GitHub markdown, text.ts as
// terminal text; escaping, code spans and HTML are theirs (the `esc` and `code` arguments).
import { fmtMs, lastRun } from './format.js';
import type { Report, RunData, TestStatus } from '../types.js';

type ReportTest = Report['tests'][number];
type ReportRun = ReportTest['runs'][number];
type ReportWorker = Report['workers'][number];
type Esc = (s: string) => string;

export const NOT_RUN_CAP = 100;
export const SLOWEST = 10;
export const MAX_MESSAGE = 20_000;

export const HEADING = {
  failed: 'Failed tests',
  lost: 'Lost tests',
  flaky: 'Flaky tests',
  notRun: 'Not run',
  workers: 'Workers',
  slowest: 'Slowest tests',
  timeline: 'Timeline',
} as const;

const STATUS_LABEL: Record<Report['status'], string> = {
  passed: '✅ passed',
  failed: '❌ failed',
  incomplete: '⚠️ incomplete',
};

export function title(report: Report, esc: Esc): string {
  return `shardless: ${esc(report.queue)} ${esc(report.run)} — ${STATUS_LABEL[report.status]}`;
}

/** `bold` marks the labels. */
export function wallTime(report: Report, bold: Esc): string {
  return `${bold('Wall time:')} ${fmtMs(report.durationMs)} · ${bold('Workers:')} ${report.workers.length}`;
}

/** Why the run was aborted, or null when it was not. */
export function abortReason(data: RunData, esc: Esc): string | null {
  return data.state === 'aborted' ? esc(data.abortReason) || 'no reason given' : null;
}

/** A table's column titles, and which columns are right-aligned (numbers). */
export interface Columns {
  head: string[];
  right: boolean[];
}

export const COUNTS: Columns = {
  head: ['total', 'passed', 'failed', 'flaky', 'lost', 'skipped', 'not run'],
  right: [true, true, true, true, true, true, true],
};

export function countCells(report: Report): string[] {
  const c = report.counts;
  return [c.total, c.passed, c.failed, c.flaky, c.lost, c.skipped, c.notRun].map(String);
}

export const WORKERS: Columns = {
  head: ['worker', 'state', 'batches', 'tests', 'busy', 'utilisation', 'lost batches'],
  right: [false, false, true, true, true, true, true],
};

/** A worker's row; its id as `code` renders it. */
export function workerCells(w: ReportWorker, wallMs: number, code: Esc): string[] {
  const use = wallMs > 0 ? `${Math.round((w.busyMs / wallMs) * 100)}%` : '—';
  return [code(w.id), w.state, String(w.batches), String(w.tests), fmtMs(w.busyMs), use, String(w.lostBatches)];
}

export const SLOW: Columns = { head: ['test', 'duration', 'status'], right: [false, true, false] };

/** The slowest tests' rows, slowest first. */
export function slowestRows(report: Report, code: Esc): string[][] {
  return report.tests
    .filter((t) => t.durationMs > 0)
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, SLOWEST)
    .map((t) => [code(t.id), fmtMs(t.durationMs), t.status]);
}

export function withStatus(report: Report, status: TestStatus): ReportTest[] {
  return report.tests.filter((t) => t.status === status);
}

/** The message of the test's last failed run. */
export function failureOf(t: ReportTest): string {
  return lastRun(t, 'failed')?.message ?? '';
}

export function outcomes(t: ReportTest): string {
  return t.runs.map((r) => r.outcome).join(' → ');
}

/** After a failed test's first line: its runs, when there were several. */
export function runsNote(t: ReportTest): string {
  return t.runs.length > 1 ? ` (${t.runs.length} runs: ${outcomes(t)})` : '';
}

/** A line of a failed test's list of runs. */
export function failedRunLine(r: ReportRun, i: number, esc: Esc): string {
  return `${i + 1}. ${r.outcome}, worker ${esc(r.worker)}, batch ${esc(r.batch)}${r.isolated ? ', isolated' : ''}, ${fmtMs(r.durationMs)}`;
}

/** A lost test's line, then one line per run (indented, without line ends). */
export function lostLines(t: ReportTest, code: Esc): string[] {
  return [
    `- ${code(t.id)} — ${t.runs.length} ${t.runs.length === 1 ? 'run' : 'runs'}`,
    ...t.runs.map(
      (r, i) =>
        `  ${i + 1}. ${r.outcome} — worker ${code(r.worker)}, batch ${code(r.batch)}, ` +
        `${r.isolated ? 'isolated' : 'not isolated'}, ${fmtMs(r.durationMs)}`,
    ),
  ];
}
