// The job summary as terminal text, from the run's data (the command line prints it where there is no
// GITHUB_STEP_SUMMARY): the sections of summary.ts (sections.ts says what they hold) as plain lines and
// aligned tables. The timeline, a chart, is left out. Also the counts line that ends the controller's log.
import { clampBytes } from './fit.js';
import { cap, firstLine, oneLine } from './format.js';
import { notCoordinatedText, type NotCoordinated } from './not-coordinated.js';
import {
  COUNTS, HEADING, MAX_MESSAGE, NOT_RUN_CAP, SLOW, WORKERS, abortReason, countCells, failedRunLine, failureOf, lostLines,
  outcomes, runsNote, slowestRows, title, wallTime, withStatus, workerCells, type Columns,
} from './sections.js';
import type { Report, RunData } from '../types.js';

const MAX_BYTES = 1_000_000;

/** What there is to show at the end of a run: its report and data, or why it was not coordinated. */
export type RunSummary = { report: Report; data: RunData } | { notCoordinated: NotCoordinated };

/** An id or a name on one line; an empty one said so. */
const plain = (s: string): string => oneLine(s) || '(empty)';
const same = (s: string): string => s;

/** `shardless: N tests: ... ; report PATH`, the controller's last line but the reason it fails. */
export function countsLine(report: Report, reportPath: string): string {
  const c = report.counts;
  return `shardless: ${c.total} tests: ${c.passed} passed, ${c.failed} failed, ${c.flaky} flaky, ${c.lost} lost, ${c.skipped} skipped, ${c.notRun} not run; report ${reportPath}`;
}

export function summaryText(s: RunSummary): string {
  if ('notCoordinated' in s) return notCoordinatedText(s.notCoordinated);
  const { report, data } = s;
  const head = title(report, oneLine);
  const out = [head, '='.repeat([...head].length), '', ...table(COUNTS, [countCells(report)]), '', wallTime(report, same)];
  const aborted = abortReason(data, oneLine);
  if (aborted !== null) out.push('', `  Run aborted: ${aborted}`);

  section(out, HEADING.failed, withStatus(report, 'failed').flatMap((t) => {
    const message = failureOf(t);
    const runs = t.runs.length > 1 ? ['', ...t.runs.map((r, i) => `    ${failedRunLine(r, i, same)}`)] : [];
    return [`- ${plain(t.id)} — ${firstLine(message)}${runsNote(t)}`, '', ...indent(cap(message, MAX_MESSAGE)), ...runs, ''];
  }));
  section(out, HEADING.lost, withStatus(report, 'lost').flatMap((t) => lostLines(t, plain)));
  section(out, HEADING.flaky, withStatus(report, 'flaky').map((t) => {
    const failure = firstLine(failureOf(t));
    return `- ${plain(t.id)} — ${outcomes(t)}${failure ? `: ${failure}` : ''}`;
  }));
  const notRun = withStatus(report, 'not-run');
  const more = notRun.length - NOT_RUN_CAP;
  section(out, HEADING.notRun, [...notRun.slice(0, NOT_RUN_CAP).map((t) => `- ${plain(t.id)}`), ...(more > 0 ? ['', `…and ${more} more not-run tests not shown.`] : [])]);
  if (report.workers.length > 0) section(out, HEADING.workers, table(WORKERS, report.workers.map((w) => workerCells(w, report.durationMs, plain))));
  const slow = slowestRows(report, plain);
  if (slow.length > 0) section(out, HEADING.slowest, table(SLOW, slow));
  const text = out.join('\n').replace(/\n{3,}/g, '\n\n').trim();
  return clampBytes(`${text}\n`, MAX_BYTES, '\n(summary truncated)\n');
}

function section(out: string[], heading: string, lines: string[]): void {
  if (lines.length > 0) out.push('', `${heading}:`, '', ...lines);
}

function indent(block: string): string[] {
  return block.split(/\r?\n/).map((l) => `    ${l}`);
}

/** Columns padded to their widest cell, numbers right-aligned, a rule under the titles. */
function table(c: Columns, rows: string[][]): string[] {
  const len = (s: string) => [...s].length;
  const width = c.head.map((h, j) => Math.max(len(h), ...rows.map((r) => len(r[j] ?? ''))));
  const line = (r: string[]) =>
    `  ${r.map((cell, j) => (c.right[j] ? cell.padStart(width[j] + cell.length - len(cell)) : cell.padEnd(width[j] + cell.length - len(cell)))).join('  ')}`.trimEnd();
  return [line(c.head), `  ${width.map((w) => '-'.repeat(w)).join('  ')}`, ...rows.map(line)];
}
